use ccaas_shim::contract::Object;

#[derive(Object)]
pub enum Status {
    Active,
    Frozen { reason: String },
}

fn main() {}
