//! Reasoning printed inline as `<think>…</think>` at the start of `content` (a server without
//! a reasoning parser, §6.6): split out into a thinking block, so that it is neither shown as
//! the answer nor replayed as one.

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Reasoning(String),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Nothing but (possibly) whitespace and a prefix of `<think>` seen yet.
    #[default]
    Start,
    Thinking,
    /// After `</think>`: whitespace is dropped until the answer starts.
    AfterThinking,
    Text,
}

#[derive(Debug, Default)]
pub struct ThinkTagSplitter {
    state: State,
    buffer: String,
}

impl ThinkTagSplitter {
    pub fn push(&mut self, text: &str) -> Vec<Part> {
        let mut out = Vec::new();
        match self.state {
            State::Text => push_text(&mut out, text.to_owned()),
            State::AfterThinking => self.after_thinking(text, &mut out),
            State::Start => {
                self.buffer.push_str(text);
                let trimmed = self.buffer.trim_start();
                if let Some(rest) = trimmed.strip_prefix(OPEN) {
                    let rest = rest.to_owned();
                    self.buffer.clear();
                    self.state = State::Thinking;
                    self.thinking(&rest, &mut out);
                } else if !OPEN.starts_with(trimmed) {
                    self.state = State::Text;
                    push_text(&mut out, std::mem::take(&mut self.buffer));
                }
            }
            State::Thinking => self.thinking(text, &mut out),
        }
        out
    }

    fn thinking(&mut self, text: &str, out: &mut Vec<Part>) {
        self.buffer.push_str(text);
        if let Some(end) = self.buffer.find(CLOSE) {
            let reasoning = self.buffer[..end].to_owned();
            let rest = self.buffer[end + CLOSE.len()..].to_owned();
            self.buffer.clear();
            if !reasoning.is_empty() {
                out.push(Part::Reasoning(reasoning));
            }
            self.state = State::AfterThinking;
            self.after_thinking(&rest, out);
            return;
        }
        // Hold back a tail that could grow into `</think>`.
        let keep = (1..CLOSE.len())
            .rev()
            .find(|&n| self.buffer.ends_with(&CLOSE[..n]))
            .unwrap_or(0);
        let release = self.buffer.len() - keep;
        if release > 0 {
            out.push(Part::Reasoning(self.buffer[..release].to_owned()));
            self.buffer.drain(..release);
        }
    }

    fn after_thinking(&mut self, text: &str, out: &mut Vec<Part>) {
        let text = text.trim_start();
        if !text.is_empty() {
            self.state = State::Text;
            push_text(out, text.to_owned());
        }
    }

    /// The content ended: release what is held back.
    pub fn finish(&mut self) -> Vec<Part> {
        let rest = std::mem::take(&mut self.buffer);
        let mut out = Vec::new();
        match self.state {
            State::Thinking if !rest.is_empty() => out.push(Part::Reasoning(rest)),
            State::Start => push_text(&mut out, rest),
            _ => {}
        }
        out
    }
}

fn push_text(out: &mut Vec<Part>, text: String) {
    if !text.is_empty() {
        out.push(Part::Text(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pieces: &[&str]) -> Vec<Part> {
        let mut splitter = ThinkTagSplitter::default();
        let mut out: Vec<Part> = pieces.iter().flat_map(|p| splitter.push(p)).collect();
        out.extend(splitter.finish());
        out
    }

    #[test]
    fn splits_leading_think_tags() {
        assert_eq!(
            split(&[
                "\n<thi",
                "nk>plan ",
                "it</th",
                "ink>\n\n",
                "Answer",
                " <think>x</think>"
            ]),
            vec![
                Part::Reasoning("plan ".into()),
                Part::Reasoning("it".into()),
                Part::Text("Answer".into()),
                Part::Text(" <think>x</think>".into()),
            ]
        );
    }

    #[test]
    fn ordinary_text_passes_through() {
        assert_eq!(split(&["<", "b>bold"]), vec![Part::Text("<b>bold".into())]);
        assert_eq!(split(&["<thi"]), vec![Part::Text("<thi".into())]);
        assert_eq!(
            split(&["<think>unfinished"]),
            vec![Part::Reasoning("unfinished".into())]
        );
    }
}
