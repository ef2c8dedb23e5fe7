use std::net::IpAddr;

/// Whether a backend's `base_url` points at this machine or the private network (a local
/// engine, free to run) rather than a cloud API. Unparseable URLs count as cloud.
pub fn is_local_url(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return is_private(ip);
    }
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || [".localhost", ".local", ".lan", ".internal", ".home.arpa"]
            .iter()
            .any(|suffix| host.ends_with(suffix))
        // A single label (`gpu-box`) only resolves on the local network.
        || !host.contains('.')
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                // Carrier-grade NAT range, used by Tailscale and similar overlays.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_url;

    #[test]
    fn local_and_cloud_hosts() {
        for url in [
            "http://127.0.0.1:11434",
            "http://localhost:8000/v1",
            "http://[::1]:1234/v1",
            "http://192.168.1.20:11434",
            "http://10.0.0.5:8000/v1",
            "http://172.16.3.4/v1",
            "http://gpu-box:8080/v1",
            "http://studio.local:1234/v1",
            "http://100.101.102.103:11434",
            "http://[fd00::1]:8000",
        ] {
            assert!(is_local_url(url), "{url} should be local");
        }
        for url in [
            "https://api.anthropic.com",
            "https://api.openai.com/v1",
            "https://api.deepseek.com/v1",
            "http://8.8.8.8/v1",
            "https://[2001:db8::1]/v1",
            "not a url",
        ] {
            assert!(!is_local_url(url), "{url} should be cloud");
        }
    }
}
