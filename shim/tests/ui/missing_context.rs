use ccaas_shim::contract::contract;

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    #[transaction]
    async fn read_asset(&self, id: String) -> String {
        id
    }
}

fn main() {}
