//! TLS material: generating it ([`generate`]) and checking what goes into
//! `connection.json` ([`check`]).

pub mod check;
mod generate;
mod keys;

pub use generate::{generate, TlsMaterial, TLS_FILES};
