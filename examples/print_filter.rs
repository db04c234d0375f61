//! Prints the BPF expression `watch3232 capture` installs by default (the pre-filter's kernel
//! filter; the OTA ports given replace the default 3232,8266,2040), so `benches/throughput.sh`
//! times tcpdump with exactly that filter.

fn main() {
    let mut config = watch3232::engine::Config::default();
    if let Some(list) = std::env::args().nth(1) {
        let ports: Vec<u16> = list
            .split(',')
            .filter_map(|p| p.trim().parse().ok())
            .collect();
        config.classify.ota_ports = ports.clone();
        config.classify.watch_ports = ports;
    }
    println!("{}", watch3232::driver::default_live_filter(&config));
}
