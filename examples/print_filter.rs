//! Prints the BPF expression `watch3232 capture` installs by default (for the OTA ports given,
//! default 3232,8266,2040), so `benches/throughput.sh` times tcpdump with exactly that filter.

fn main() {
    let ports: Vec<u16> = match std::env::args().nth(1) {
        Some(list) => list
            .split(',')
            .filter_map(|p| p.trim().parse().ok())
            .collect(),
        None => watch3232::classify::Config::default().ota_ports,
    };
    println!("{}", watch3232::capture::default_filter(&ports));
}
