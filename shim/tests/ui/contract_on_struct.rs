use ccaas_shim::contract::contract;

#[contract]
pub struct Assets;

fn main() {}
