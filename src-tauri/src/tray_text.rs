//! The tray menu's words in the app's language (the window has its own i18n; the tray is
//! drawn by Rust, so its few strings live here).

use crate::prefs::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayLang {
    En,
    ZhCn,
}

impl TrayLang {
    /// The app's language setting; "System" follows the locale variables the way glibc does
    /// (`LC_ALL`, then `LC_MESSAGES`, then `LANG`).
    pub fn from_pref(pref: &Language) -> Self {
        match pref {
            Language::En => TrayLang::En,
            Language::ZhCn => TrayLang::ZhCn,
            Language::System => {
                let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
                    .iter()
                    .filter_map(|v| std::env::var(v).ok())
                    .find(|v| !v.is_empty())
                    .unwrap_or_default();
                Self::from_locale(&locale)
            }
        }
    }

    fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("zh") {
            TrayLang::ZhCn
        } else {
            TrayLang::En
        }
    }

    pub fn status_line(self, addr: &str, requests_today: u64) -> String {
        match self {
            TrayLang::En => format!(
                "Listening on {addr} · {requests_today} request{} today",
                if requests_today == 1 { "" } else { "s" }
            ),
            TrayLang::ZhCn => format!("正在监听 {addr} · 今日 {requests_today} 个请求"),
        }
    }

    pub fn paused_line(self, addr: &str) -> String {
        match self {
            TrayLang::En => format!("Paused · {addr}"),
            TrayLang::ZhCn => format!("已暂停 · {addr}"),
        }
    }

    /// One short line: the menu is as wide as its widest item, and a long upstream error made
    /// it span the screen. The whole message is in the window's Overview.
    pub fn last_error_line(self, backend: Option<&str>, message: &str) -> String {
        let short = shorten(message, 40);
        match (self, backend) {
            (TrayLang::En, Some(b)) => format!("Last error ({b}): {short}"),
            (TrayLang::En, None) => format!("Last error: {short}"),
            (TrayLang::ZhCn, Some(b)) => format!("最近错误（{b}）：{short}"),
            (TrayLang::ZhCn, None) => format!("最近错误：{short}"),
        }
    }

    pub fn profile(self, name: &str) -> String {
        match (self, name) {
            (TrayLang::ZhCn, "local") => "本地".to_owned(),
            (TrayLang::ZhCn, "cloud") => "云端".to_owned(),
            _ => capitalise(name),
        }
    }

    pub fn open(self) -> &'static str {
        match self {
            TrayLang::En => "Open Switchyard",
            TrayLang::ZhCn => "打开 Switchyard",
        }
    }

    pub fn copy_env(self) -> &'static str {
        match self {
            TrayLang::En => "Copy Claude Code env",
            TrayLang::ZhCn => "复制 Claude Code 环境变量",
        }
    }

    pub fn pause(self) -> &'static str {
        match self {
            TrayLang::En => "Pause gateway",
            TrayLang::ZhCn => "暂停网关",
        }
    }

    pub fn quit(self) -> &'static str {
        match self {
            TrayLang::En => "Quit",
            TrayLang::ZhCn => "退出",
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

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_locales_get_chinese() {
        assert_eq!(TrayLang::from_locale("zh_CN.UTF-8"), TrayLang::ZhCn);
        assert_eq!(TrayLang::from_locale("en_US.UTF-8"), TrayLang::En);
        assert_eq!(TrayLang::from_locale(""), TrayLang::En);
        assert_eq!(TrayLang::from_pref(&Language::ZhCn).quit(), "退出");
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
