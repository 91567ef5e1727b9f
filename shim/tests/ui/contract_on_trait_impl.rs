use ccaas_shim::contract::contract;

#[derive(Default)]
pub struct Assets;

pub trait Describe {
    fn describe(&self) -> String;
}

#[contract]
impl Describe for Assets {
    fn describe(&self) -> String {
        "assets".to_string()
    }
}

fn main() {}
