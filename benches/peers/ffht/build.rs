//! Builds FFHT's C sources (c/, vendored unchanged) as FFHT's own Makefile does: `-O3
//! -march=native -std=c99`, so its AVX kernels are used wherever the CPU has AVX.

fn main() {
    println!("cargo:rerun-if-changed=c");
    cc::Build::new()
        .file("c/fht.c")
        .file("c/fast_copy.c")
        .include("c")
        .opt_level(3)
        .flag("-march=native")
        .flag("-std=c99")
        .warnings(false)
        .compile("ffht");
}
