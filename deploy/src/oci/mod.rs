//! The chaincode server's OCI image: assembling it, its hot-code layout (`build-static`), and
//! pushing it to a registry with the right credentials.

pub mod image;
pub mod layout;
mod reference;
pub mod registry;
pub mod registry_auth;
