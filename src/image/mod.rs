//! The base image every node runs, built without a registry: Debian packages installed by
//! mmdebstrap into a root file system (and the few Python packages pinned from PyPI, `wheels`)
//! that is imported into the engine. The tag carries a hash
//! of the recipe, so an unchanged recipe is reused and a changed one rebuilt.

mod build;
mod recipe;
mod wheels;

pub use build::{
    ImageError, ImageRef, ImageSource, LABEL_PACKAGES, LABEL_PACKAGES_SHA256, build, ensure,
    image_id, packages_sha256, parse_packages,
};
pub use recipe::{Recipe, base_recipe};
pub use wheels::{LIST_INSTALLED as LIST_PYPI_PACKAGES, PIP, Wheel, WheelError};
