from edgeai.cli.main import main

main()
