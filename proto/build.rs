//! Compiles the `.proto` files with protox (pure Rust), so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["sluice/config/v1/config.proto"];
    let descriptors = protox::compile(protos, ["."])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
