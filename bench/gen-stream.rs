//! `gen-stream`: write a generated manifest stream (see `helm_ha::gen_stream`).

use std::io::Write as _;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut mb, mut seed, mut out) = (20.0f64, 1u64, None::<String>);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--mb" => {
                mb = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--mb takes a number"))
            }
            "--seed" => {
                seed = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--seed takes a whole number"))
            }
            "--out" => out = Some(val()),
            _ => usage(&format!("unknown argument {a}")),
        }
    }
    let text = helm_ha::gen_stream::generate((mb * 1_000_000.0) as usize, seed);
    let result = match out {
        Some(path) => std::fs::write(&path, text.as_bytes()),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    if let Err(e) = result {
        eprintln!("gen-stream: {e}");
        std::process::exit(1);
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("gen-stream: {msg}\nusage: gen-stream [--mb 20] [--seed 1] [--out FILE]");
    std::process::exit(2);
}
