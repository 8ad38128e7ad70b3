//! Which local process is on the other end of a loopback TCP connection.
//!
//! The IPC surface refuses processes of other OS users and names the
//! requesting executable in approval prompts; TCP carries neither, so on
//! Linux we ask the kernel's tables: `/proc/net/tcp{,6}` maps the client's
//! socket to its owner uid and inode, and `/proc/<pid>/fd` maps the inode to
//! a process. Everything here is blocking file I/O (callers use
//! `spawn_blocking`), reads only, and answers `None` rather than failing
//! when an entry is missing, malformed or unreadable. Elsewhere nothing is
//! known and every lookup is `None`.

use std::net::SocketAddr;

/// The local process on the other end of a loopback TCP connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PeerProcess {
    pub uid: u32,
    /// None when the owning process could not be found (e.g. it exited, or /proc is restricted).
    pub pid: Option<u32>,
    /// Absolute path of the executable (/proc/<pid>/exe), when readable.
    pub exe: Option<String>,
}

/// Look up the process owning the client end of a TCP connection.
///
/// `server` is the listener-side address of the connection (our local
/// address; an unspecified IP matches any), `client` the remote address as
/// the server sees it (`ConnectInfo`). IPv4-mapped IPv6 forms match their
/// IPv4 equivalents. `None` when the connection cannot be found: not Linux,
/// a client that is not loopback, or an entry that vanished.
pub fn lookup(server: SocketAddr, client: SocketAddr) -> Option<PeerProcess> {
    #[cfg(target_os = "linux")]
    {
        linux::lookup(server, client)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (server, client);
        None
    }
}

/// Just the uid owning the client end of a TCP connection: the cheap half of
/// [`lookup`] (no scan of every process), for the per-request user check.
pub fn socket_uid(server: SocketAddr, client: SocketAddr) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        linux::find_socket(server, client).map(|s| s.uid)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (server, client);
        None
    }
}

/// The uid this daemon runs as (libc::geteuid on unix; None elsewhere).
pub fn current_uid() -> Option<u32> {
    #[cfg(unix)]
    {
        // SAFETY: geteuid takes no arguments, always succeeds and touches no
        // memory of ours.
        Some(unsafe { libc::geteuid() })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Parsing of `/proc/net/tcp` and `/proc/net/tcp6` lines. Pure, so its tests
/// run on every platform.
#[cfg(any(target_os = "linux", test))]
mod proc_net {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    /// One socket of the kernel's TCP table.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Entry {
        pub local: SocketAddr,
        pub remote: SocketAddr,
        pub uid: u32,
        /// 0 for sockets no file refers to any more (TIME_WAIT and the like).
        pub inode: u64,
    }

    impl Entry {
        /// Whether this is the client end of the connection `client` →
        /// `server` (addresses as the server sees them).
        pub fn is_client_end_of(&self, server: SocketAddr, client: SocketAddr) -> bool {
            let server_ip = server.ip().to_canonical();
            same(self.local, client)
                && self.remote.port() == server.port()
                && (server_ip.is_unspecified() || self.remote.ip().to_canonical() == server_ip)
        }
    }

    /// Equal addresses, an IPv4-mapped IPv6 address being its IPv4 one.
    fn same(a: SocketAddr, b: SocketAddr) -> bool {
        a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical()
    }

    /// `  0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 123456 …`
    /// (sl, local, remote, state, queues, timer, retransmits, uid, timeout,
    /// inode, …). `None` for the header and anything malformed.
    pub fn parse_line(line: &str) -> Option<Entry> {
        let fields: Vec<&str> = line.split_whitespace().take(10).collect();
        let [
            sl,
            local,
            remote,
            _st,
            _queues,
            _timer,
            _retr,
            uid,
            _timeout,
            inode,
        ] = fields.as_slice()
        else {
            return None;
        };
        if !sl.ends_with(':') {
            return None;
        }
        Some(Entry {
            local: parse_addr(local)?,
            remote: parse_addr(remote)?,
            uid: parse_decimal(uid)?,
            inode: parse_decimal(inode)?,
        })
    }

    /// `0100007F:1F90` (IPv4) or 32 hex digits `:PORT` (IPv6). The address
    /// is 32-bit words in host byte order, the port 16 bits big-endian.
    pub fn parse_addr(s: &str) -> Option<SocketAddr> {
        let (ip, port) = s.split_once(':')?;
        if port.len() != 4 {
            return None;
        }
        let port = u16::try_from(parse_hex(port)?).ok()?;
        let ip = match ip.len() {
            8 => IpAddr::V4(Ipv4Addr::from(parse_hex(ip)?.to_ne_bytes())),
            32 => {
                let mut bytes = [0u8; 16];
                for (chunk, out) in ip.as_bytes().chunks(8).zip(bytes.chunks_mut(4)) {
                    let word = parse_hex(std::str::from_utf8(chunk).ok()?)?;
                    out.copy_from_slice(&word.to_ne_bytes());
                }
                IpAddr::V6(Ipv6Addr::from(bytes))
            }
            _ => return None,
        };
        Some(SocketAddr::new(ip, port))
    }

    /// Up to 8 hex digits, nothing else (`from_str_radix` alone accepts a sign).
    fn parse_hex(s: &str) -> Option<u32> {
        if s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::{self, File};
    use std::io::{BufRead, BufReader};
    use std::net::SocketAddr;
    use std::path::Path;

    use super::PeerProcess;
    use super::proc_net::{Entry, parse_line};

    pub fn lookup(server: SocketAddr, client: SocketAddr) -> Option<PeerProcess> {
        let socket = find_socket(server, client)?;
        let pid = find_pid(socket.inode);
        let exe = pid.and_then(|pid| {
            fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        });
        Some(PeerProcess {
            uid: socket.uid,
            pid,
            exe,
        })
    }

    /// The client end of `client` → `server` in the kernel's TCP tables,
    /// when the client is loopback and the socket still has an owner.
    pub fn find_socket(server: SocketAddr, client: SocketAddr) -> Option<Entry> {
        let client_ip = client.ip().to_canonical();
        if !client_ip.is_loopback() {
            return None;
        }
        // An IPv4 client may hold an AF_INET socket (tcp) or an AF_INET6 one
        // speaking IPv4-mapped addresses (tcp6); an IPv6 client only the latter.
        let tables: &[&str] = if client_ip.is_ipv4() {
            &["/proc/net/tcp", "/proc/net/tcp6"]
        } else {
            &["/proc/net/tcp6"]
        };
        tables
            .iter()
            .find_map(|table| scan_table(Path::new(table), server, client))
    }

    fn scan_table(table: &Path, server: SocketAddr, client: SocketAddr) -> Option<Entry> {
        let file = File::open(table).ok()?;
        BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| parse_line(&line))
            .find(|e| e.inode != 0 && e.is_client_end_of(server, client))
    }

    /// The lowest pid with a file descriptor on `socket:[inode]`. Processes
    /// whose descriptors we may not read, or that exit meanwhile, are skipped.
    fn find_pid(inode: u64) -> Option<u32> {
        let target = format!("socket:[{inode}]");
        let mut pids: Vec<u32> = fs::read_dir("/proc")
            .ok()?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        pids.sort_unstable();
        pids.into_iter().find(|pid| holds(*pid, &target))
    }

    fn holds(pid: u32, target: &str) -> bool {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            return false;
        };
        fds.filter_map(Result::ok)
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|link| link.as_os_str() == target))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    use super::proc_net::{Entry, parse_addr, parse_line};
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    // The fixtures are what an x86 kernel prints: words in little-endian order.
    #[cfg(target_endian = "little")]
    #[test]
    fn parses_an_ipv4_line() {
        let line = "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 123456 1 0000000000000000 20 4 30 10 -1";
        assert_eq!(
            parse_line(line),
            Some(Entry {
                local: addr("127.0.0.1:8080"),
                remote: addr("127.0.0.1:50000"),
                uid: 1000,
                inode: 123456,
            })
        );
        assert_eq!(parse_addr("0101A8C0:0016"), Some(addr("192.168.1.1:22")));
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_ipv6_lines() {
        let loopback = "   3: 00000000000000000000000001000000:C350 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000     0        0 42 1 0000000000000000 20 4 30 10 -1";
        assert_eq!(
            parse_line(loopback),
            Some(Entry {
                local: addr("[::1]:50000"),
                remote: addr("[::1]:8080"),
                uid: 0,
                inode: 42,
            })
        );
        let mapped = "  12: 0000000000000000FFFF00000100007F:C350 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 7 1 0000000000000000 20 4 30 10 -1";
        let entry = parse_line(mapped).expect("mapped line parses");
        let mapped_lo = Ipv4Addr::LOCALHOST.to_ipv6_mapped();
        assert_eq!(entry.local, SocketAddr::new(IpAddr::V6(mapped_lo), 50000));
        assert_eq!(entry.remote, SocketAddr::new(IpAddr::V6(mapped_lo), 8080));
        assert_eq!((entry.uid, entry.inode), (1000, 7));
        // Word order within the 128 bits: 2001:db8::1.
        assert_eq!(
            parse_addr("B80D0120000000000000000001000000:0050"),
            Some(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                80
            ))
        );
    }

    #[test]
    fn matches_the_client_end_across_mapped_forms() {
        let entry = Entry {
            local: SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 50000),
            remote: SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 8080),
            uid: 1000,
            inode: 7,
        };
        let server = addr("127.0.0.1:8080");
        let client = addr("127.0.0.1:50000");
        assert!(entry.is_client_end_of(server, client));
        assert!(entry.is_client_end_of(addr("0.0.0.0:8080"), client));
        assert!(entry.is_client_end_of(addr("[::]:8080"), addr("[::ffff:127.0.0.1]:50000")));
        // The server's own end of the same connection is not the client's.
        assert!(!entry.is_client_end_of(client, server));
        assert!(!entry.is_client_end_of(addr("127.0.0.1:8081"), client));
        assert!(!entry.is_client_end_of(addr("127.0.0.2:8080"), client));
    }

    #[test]
    fn skips_malformed_lines() {
        let bad = [
            "",
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 0100007F:1F90 0100007F:C350 01",
            "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0",
            "   0: 0100007G:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 1",
            "   0: 0100007F:+F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 1",
            "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  -1000       0 1",
            "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  99999999999 0 1",
            "   0: 0100007F1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 1",
            "   0  0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 1",
            "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 1é",
        ];
        for line in bad {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
        for a in [
            "0100007F",
            "0100007F:",
            "0100007F:01F90",
            "0100007:1F90",
            "00000000000000000000000001000000:1F9",
            "0000000000000000000000000100000é:1F90",
            "é000000000000000000000000100000:1F90",
        ] {
            assert_eq!(parse_addr(a), None, "{a:?}");
        }
    }

    #[test]
    fn current_uid_is_known_on_unix() {
        assert_eq!(current_uid().is_some(), cfg!(unix));
    }

    #[cfg(target_os = "linux")]
    fn expect_ourselves(server: SocketAddr, client: SocketAddr) {
        let exe = std::env::current_exe()
            .and_then(std::fs::canonicalize)
            .expect("our executable");
        let peer = lookup(server, client).expect("our own connection is found");
        assert_eq!(Some(peer.uid), current_uid());
        assert_eq!(peer.pid, Some(std::process::id()));
        assert_eq!(peer.exe.as_deref(), exe.to_str());
        assert_eq!(socket_uid(server, client), current_uid());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn finds_our_own_ipv4_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = listener.local_addr().expect("local addr");
        let _stream = std::net::TcpStream::connect(server).expect("connect");
        let (_accepted, client) = listener.accept().expect("accept");
        expect_ourselves(server, client);
        // The same connection named in IPv4-mapped form, as a dual-stack
        // listener would see it.
        let mapped = |a: SocketAddr| match a.ip() {
            IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
            IpAddr::V6(_) => a,
        };
        expect_ourselves(mapped(server), mapped(client));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn finds_our_own_ipv6_connection() {
        // Some sandboxes have no IPv6 loopback; nothing to test there.
        let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
            return;
        };
        let server = listener.local_addr().expect("local addr");
        let _stream = std::net::TcpStream::connect(server).expect("connect");
        let (_accepted, client) = listener.accept().expect("accept");
        expect_ourselves(server, client);
    }

    #[test]
    fn unknown_connections_are_none() {
        // Nothing listens on port 1, so no socket connects to it from port 2.
        assert_eq!(lookup(addr("127.0.0.1:1"), addr("127.0.0.1:2")), None);
        assert_eq!(socket_uid(addr("127.0.0.1:1"), addr("127.0.0.1:2")), None);
        assert_eq!(lookup(addr("[::1]:1"), addr("[::1]:2")), None);
        // Not loopback: never looked up.
        assert_eq!(
            lookup(addr("192.0.2.1:27777"), addr("192.0.2.2:40000")),
            None
        );
    }
}
