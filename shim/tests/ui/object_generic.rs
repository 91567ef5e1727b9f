use ccaas_shim::contract::Object;

#[derive(Object)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub bookmark: String,
}

fn main() {}
