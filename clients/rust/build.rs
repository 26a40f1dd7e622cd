//! Generates the gRPC client and message types from the repository's proto
//! contract (`../../proto`), with `protox`, a pure-Rust protobuf compiler, so a
//! build needs no `protoc` on the machine.

use std::path::PathBuf;

const PROTO_ROOT: &str = "../../proto";
const PROTO_FILES: &[&str] = &["tinyv/v1/verifier.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(PROTO_ROOT);
    println!("cargo:rerun-if-changed={}", root.display());
    for file in PROTO_FILES {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }

    let descriptors = protox::compile(PROTO_FILES, [&root])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
