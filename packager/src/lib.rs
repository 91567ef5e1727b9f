#![forbid(unsafe_code)]
//! placeholder during development
pub mod error;
pub mod label;
pub mod template;
pub use error::{Error, Result};
