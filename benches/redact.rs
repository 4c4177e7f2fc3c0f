//! MB/s of the redaction engine with all built-in detectors on a realistic bot log
//! (benches/common/botlog.rs: Chinese text, JSON lines, about one personal-data item per five lines).
//!
//! `cargo bench --bench redact`

#[path = "common/botlog.rs"]
mod botlog;
#[path = "../tests/common/pii_gen.rs"]
mod pii_gen;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logveil::redact::{redact_all, Engine, EngineConfig, Redactor};

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

criterion_group!(benches, bench);
criterion_main!(benches);
