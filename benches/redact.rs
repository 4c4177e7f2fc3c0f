//! MB/s of the redaction engine with all built-in detectors on a realistic bot log
//! (benches/common/botlog.rs: Chinese text, JSON lines, about one personal-data item per five lines).
//!
//! Group `lanes`: the same redaction (256 KiB regions, as the parallel layer cuts them) with regions cut
//! into 1, 2 and 3 lanes, on the sparse and the dense profile: what the interleaved searches gain.
//!
//! `cargo bench --bench redact` (`cargo bench --bench redact -- lanes` for that group alone)

#[path = "common/botlog.rs"]
mod botlog;
#[path = "../tests/common/pii_gen.rs"]
mod pii_gen;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logveil::redact::{redact_all, Engine, EngineConfig, Redactor, MAX_LANES};

const SIZE: usize = 32 << 20;

fn bench(c: &mut Criterion) {
    let engine = Engine::new(&EngineConfig::default()).expect("default engine");
    let mut gen = botlog::BotLog::new(42);
    let mut log = Vec::with_capacity(SIZE + 4096);
    gen.fill(&mut log, SIZE);
    eprintln!(
        "bot log: {} bytes, {} lines, {} personal-data items (1 per {:.1} lines)",
        log.len(),
        gen.lines,
        gen.pii_items,
        gen.lines as f64 / gen.pii_items as f64
    );
    let (_, findings) = redact_all(&engine, &log);
    eprintln!("built-in defaults find {} items", findings.total());

    let mut g = c.benchmark_group("redact");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(8));
    g.bench_function("redact_all/botlog", |b| {
        b.iter(|| redact_all(&engine, &log))
    });
    g.bench_function("Redactor/botlog_256KiB_pushes", |b| {
        let mut out = Vec::with_capacity(log.len());
        b.iter(|| {
            out.clear();
            let mut r = Redactor::new(&engine);
            for chunk in log.chunks(256 << 10) {
                r.push(chunk, &mut out);
            }
            r.finish(&mut out);
            out.len()
        })
    });
    // The same bytes with every newline turned into a space: one 32 MiB line, cut by the wrapper.
    let one_line: Vec<u8> = log
        .iter()
        .map(|&b| if b == b'\n' { b' ' } else { b })
        .collect();
    g.bench_function("redact_all/botlog_no_newlines", |b| {
        b.iter(|| redact_all(&engine, &one_line))
    });
    g.finish();
}

/// Regions of 256 KiB of whole lines (as the parallel layer's chunks) redacted with 1..=MAX_LANES lanes.
fn lanes(c: &mut Criterion) {
    let engines: Vec<Engine> = (1..=MAX_LANES)
        .map(|n| {
            let mut e = Engine::new(&EngineConfig::default()).expect("default engine");
            e.set_lanes(n);
            e
        })
        .collect();
    for profile in [botlog::Profile::Sparse, botlog::Profile::DENSE] {
        let log = botlog::generate(42, profile, 16 << 20);
        let chunks = whole_line_chunks(&log, 256 << 10);
        let mut g = c.benchmark_group(format!("lanes/{}", profile.name()));
        g.throughput(Throughput::Bytes(log.len() as u64));
        g.sample_size(10);
        g.measurement_time(std::time::Duration::from_secs(6));
        for (i, e) in engines.iter().enumerate() {
            g.bench_function(format!("{}", i + 1), |b| {
                b.iter(|| {
                    chunks
                        .iter()
                        .map(|c| redact_all(e, c).0.len())
                        .sum::<usize>()
                })
            });
        }
        g.finish();
    }
}

/// `log` cut after the last newline within each `size` bytes.
fn whole_line_chunks(log: &[u8], size: usize) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut rest = log;
    while !rest.is_empty() {
        let cut = match memchr::memrchr(b'\n', &rest[..size.min(rest.len())]) {
            Some(i) if rest.len() > size => i + 1,
            _ if rest.len() > size => size,
            _ => rest.len(),
        };
        chunks.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    chunks
}

criterion_group!(benches, bench, lanes);
criterion_main!(benches);
