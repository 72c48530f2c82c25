//! Routing: path normalization, route path templates, upstream placeholder filling, and the
//! value patterns of header and scheme conditions. Pure matching code, no I/O.

pub mod fill;
pub mod path;
pub mod pattern;
pub mod template;

pub use fill::{FillError, fill, fill_url, placeholders};
pub use path::{NormalizedPath, PathError, normalize};
pub use pattern::Pattern;
pub use template::{Params, PathTemplate, Specificity, TemplateError};
