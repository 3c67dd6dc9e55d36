"""What models are: the catalog of models edgeai can fetch, and the manifests that describe a
model folder or an exported artifact."""
