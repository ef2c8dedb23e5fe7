//! The tray menu's words in the app's language (the window has its own i18n; the tray is
//! drawn by Rust, so its few strings live here). `{…}` marks what is filled in.

use crate::prefs::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayLang {
    En,
    ZhCn,
}

pub struct Words {
    listening: &'static str,
    one_request: &'static str,
    requests: &'static str,
    paused: &'static str,
    last_error: &'static str,
    last_error_from: &'static str,
    local: &'static str,
    cloud: &'static str,
    pub open: &'static str,
    pub copy_env: &'static str,
    pub pause: &'static str,
    pub quit: &'static str,
}

const EN: Words = Words {
    listening: "Listening on {addr} · {n} {requests} today",
    one_request: "request",
    requests: "requests",
    paused: "Paused · {addr}",
    last_error: "Last error: {message}",
    last_error_from: "Last error ({backend}): {message}",
    local: "Local",
    cloud: "Cloud",
    open: "Open Switchyard",
    copy_env: "Copy Claude Code env",
    pause: "Pause gateway",
    quit: "Quit",
};

const ZH_CN: Words = Words {
    listening: "正在监听 {addr} · 今日 {n} 个{requests}",
    one_request: "请求",
    requests: "请求",
    paused: "已暂停 · {addr}",
    last_error: "最近错误：{message}",
    last_error_from: "最近错误（{backend}）：{message}",
    local: "本地",
    cloud: "云端",
    open: "打开 Switchyard",
    copy_env: "复制 Claude Code 环境变量",
    pause: "暂停网关",
    quit: "退出",
};

impl TrayLang {
    /// The app's language setting; "System" follows the locale variables the way glibc does
    /// (`LC_ALL`, then `LC_MESSAGES`, then `LANG`).
    pub fn from_pref(pref: &Language) -> Self {
        match pref {
            Language::En => TrayLang::En,
            Language::ZhCn => TrayLang::ZhCn,
            Language::System => Self::from_locale(
                &["LC_ALL", "LC_MESSAGES", "LANG"]
                    .iter()
                    .filter_map(|v| std::env::var(v).ok())
                    .find(|v| !v.is_empty())
                    .unwrap_or_default(),
            ),
        }
    }

    fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("zh") {
            TrayLang::ZhCn
        } else {
            TrayLang::En
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            TrayLang::En => &EN,
            TrayLang::ZhCn => &ZH_CN,
        }
    }

    pub fn status_line(self, addr: &str, requests_today: u64) -> String {
        let w = self.words();
        let noun = if requests_today == 1 {
            w.one_request
        } else {
            w.requests
        };
        w.listening
            .replace("{addr}", addr)
            .replace("{n}", &requests_today.to_string())
            .replace("{requests}", noun)
    }

    pub fn paused_line(self, addr: &str) -> String {
        self.words().paused.replace("{addr}", addr)
    }

    /// One short line: the menu is as wide as its widest item, and a long upstream error made
    /// it span the screen. The whole message is in the window's Overview.
    pub fn last_error_line(self, backend: Option<&str>, message: &str) -> String {
        let w = self.words();
        let line = match backend {
            Some(b) => w.last_error_from.replace("{backend}", b),
            None => w.last_error.to_owned(),
        };
        line.replace("{message}", &shorten(message, 40))
    }

    pub fn profile(self, name: &str) -> String {
        match name {
            "local" => self.words().local.to_owned(),
            "cloud" => self.words().cloud.to_owned(),
            _ => name.to_owned(),
        }
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= max_chars {
        return line.to_owned();
    }
    let mut short: String = line.chars().take(max_chars - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_locales_get_chinese() {
        assert_eq!(TrayLang::from_locale("zh_CN.UTF-8"), TrayLang::ZhCn);
        assert_eq!(TrayLang::from_locale("en_US.UTF-8"), TrayLang::En);
        assert_eq!(TrayLang::from_locale(""), TrayLang::En);
        assert_eq!(TrayLang::from_pref(&Language::ZhCn).words().quit, "退出");
        assert_eq!(TrayLang::ZhCn.profile("local"), "本地");
        assert_eq!(TrayLang::En.profile("cloud"), "Cloud");
    }

    #[test]
    fn a_long_error_stays_one_short_line() {
        let long = "upstream said: ".to_owned() + &"x".repeat(500) + "\nsecond line";
        let line = TrayLang::En.last_error_line(Some("ollama"), &long);
        assert!(line.chars().count() < 70, "{line}");
        assert!(line.ends_with('…') && !line.contains('\n'), "{line}");
        assert_eq!(
            TrayLang::En.last_error_line(None, "refused"),
            "Last error: refused"
        );
    }

    #[test]
    fn plurals() {
        assert!(
            TrayLang::En
                .status_line("a", 1)
                .ends_with("1 request today")
        );
        assert!(
            TrayLang::En
                .status_line("a", 2)
                .ends_with("2 requests today")
        );
    }
}
