//! Cost of writing one event, in ns/event: EVE, ECS and text rendering, and the RFC 5424 frame.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use watch3232::engine::{Config, Engine};
use watch3232::event::Event;
use watch3232::output::format::{render, Format, Sensor};
use watch3232::output::sink::reliable::Link as _;
use watch3232::output::sink::SyslogLink;
use watch3232::output::{SyslogFormat, SyslogTarget};
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::frame::{Link, ESPRESSIF_MAC, LAPTOP_MAC};
use watch3232_testgen::scenarios::ota_invitations;

/// A real `arduino_ota` invitation event, produced by the engine from a generated capture.
fn invitation_event() -> Event {
    let link = Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    };
    let (records, _) = ota_invitations(link);
    let mut engine = Engine::new(Config::default());
    for (i, r) in records.iter().enumerate() {
        engine.process(&Packet {
            ts: Timestamp(r.ts_us),
            wire_len: r.data.len() as u32,
            data: &r.data,
            link: LinkType::Ethernet,
            index: i as u64 + 1,
        });
        if let Some(e) = engine
            .drain_events()
            .find(|e| e.event_type == "arduino_ota")
        {
            return e;
        }
    }
    panic!("the scenario has invitations");
}

fn formats(c: &mut Criterion) {
    let event = invitation_event();
    let sensor = Sensor {
        name: Some("span-1".into()),
        hostname: Some("sensor".into()),
    };
    let mut g = c.benchmark_group("output");
    g.throughput(Throughput::Elements(1));
    let mut buf = Vec::with_capacity(1024);
    for format in [Format::Eve, Format::Ecs, Format::Text] {
        g.bench_function(format.name(), |b| {
            b.iter(|| {
                buf.clear();
                render(format, black_box(&event), &sensor, &mut buf).unwrap();
                black_box(buf.len())
            })
        });
    }
    let syslog = SyslogLink::new(
        SyslogTarget::Unix("/dev/log".into()),
        SyslogFormat::Rfc5424,
        16,
        Some("sensor"),
    );
    let mut line = Vec::new();
    render(Format::Eve, &event, &sensor, &mut line).unwrap();
    g.bench_function("syslog_frame", |b| {
        b.iter(|| {
            buf.clear();
            syslog.frame(black_box(&event), &line, &mut buf);
            black_box(buf.len())
        })
    });
    g.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
