from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"

needs_datasets = pytest.mark.skipif(
    not DATASETS.is_dir(),
    reason=f"development recordings not found at {DATASETS} (they are kept outside the repository, in ../shared/datasets)",
)
