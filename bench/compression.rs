//! Bytes and CPU time per compression level for a file (a page as the
//! server sends it, or the WASM bundle): what the dynamic compression of
//! pages costs at each level, against what build-time compression saves.
//!
//!   cargo run --release --features ssr --example bench-compression -- FILE...

use std::io::Write;
use std::time::{Duration, Instant};

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: bench-compression FILE...");
        std::process::exit(2);
    }
    for file in files {
        let data = match std::fs::read(&file) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("{file}: {e}");
                std::process::exit(1);
            }
        };
        println!("{file}: {} bytes", data.len());
        println!("| algorithm | level | bytes | CPU per response |");
        println!("|---|---|---|---|");
        for level in [1u32, 4, 6, 9, 11] {
            let (bytes, time) = measure(&data, |d| brotli(d, level));
            println!("| brotli | {level} | {bytes} | {} |", ms(time));
        }
        for level in [1u32, 4, 6, 9] {
            let (bytes, time) = measure(&data, |d| gzip(d, level));
            println!("| gzip | {level} | {bytes} | {} |", ms(time));
        }
    }
}

/// Output size and the median time of repeated runs (at least 5, about a
/// second in all).
fn measure(data: &[u8], compress: impl Fn(&[u8]) -> Vec<u8>) -> (usize, Duration) {
    let started = Instant::now();
    let bytes = compress(data).len();
    let first = started.elapsed();
    let runs = (Duration::from_secs(1).as_nanos() / first.as_nanos().max(1)).clamp(5, 200) as usize;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(compress(data));
            started.elapsed()
        })
        .collect();
    times.sort();
    (bytes, times[times.len() / 2])
}

fn brotli(data: &[u8], quality: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
        writer.write_all(data).expect("compress to memory");
    }
    out
}

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    encoder.write_all(data).expect("compress to memory");
    encoder.finish().expect("compress to memory")
}

fn ms(time: Duration) -> String {
    format!("{:.2} ms", time.as_secs_f64() * 1000.0)
}
