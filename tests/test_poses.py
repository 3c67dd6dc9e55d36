"""Sitting and bending held-out people: the poses are shaped as those poses are, and the clip
made of them has no one lying down (so any fall the camera loop reports there is a false one)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeai.synthetic.held_out_scenes import POSES_SCRIPT, HeldOutMaterial, heldout_truth
from edgeai.synthetic.poses import posed
from edgeai.synthetic.scene import scaled


@pytest.fixture(scope="module")
def standing() -> np.ndarray:
    return scaled(HeldOutMaterial.load().people[2], 240)


def opaque_box(sprite: np.ndarray) -> tuple[int, int]:
    """Height and width of the sprite's opaque pixels."""
    rows = np.flatnonzero((sprite[:, :, 3] > 127).any(axis=1))
    cols = np.flatnonzero((sprite[:, :, 3] > 127).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def test_sitting_is_lower_and_wider_than_standing_and_keeps_its_pixels(standing):
    sitting = posed(standing, "sit", 1)
    (sh, sw), (h, w) = opaque_box(standing), opaque_box(sitting)
    assert 0.65 * sh <= h <= 0.85 * sh
    assert w > sw
    assert h > w * 0.9  # still taller than wide: not a lying shape
    # the thighs are narrowed to a side view, nothing else is lost
    assert 0.8 < (sitting[:, :, 3] > 127).sum() / (standing[:, :, 3] > 127).sum() < 1.05


def test_bending_leans_the_upper_body_the_way_the_person_faces(standing):
    right, left = posed(standing, "bend", 1), posed(standing, "bend", -1)
    assert opaque_box(right)[0] < 0.9 * opaque_box(standing)[0]
    # the head (the topmost opaque row's pixels) ends up on the side the person faces
    head_right = np.flatnonzero(right[:, :, 3].max(axis=0) > 127)
    top_row = np.flatnonzero(right[np.flatnonzero((right[:, :, 3] > 127).any(axis=1))[0], :, 3])
    assert top_row.mean() > head_right.mean()
    assert opaque_box(left) == pytest.approx(opaque_box(right), abs=3)


def test_lying_is_the_standing_person_turned_on_its_side(standing):
    lying = posed(standing, "lie")
    assert lying.shape[:2] == standing.shape[1::-1][:2]


def test_the_poses_clip_has_sitters_and_benders_and_no_one_lying():
    truth = heldout_truth(POSES_SCRIPT, HeldOutMaterial.load())
    assert {v.pose for v in truth.visits} == {"sit", "bend"}
    assert all(v.lying is None for v in truth.visits)
    assert all(v.visible[0] < v.quarter_in_view < v.visible[1] for v in truth.visits)
