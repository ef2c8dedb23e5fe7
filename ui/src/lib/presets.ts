import type { BackendKind as Kind } from "../bindings";

/** A preset fills the form: protocol + base URL + a suggested id (and a cloud's region). The
 *  user can edit all of them. */
export interface Preset {
  key: string;
  label: string;
  kind: Kind;
  /** Empty for Bedrock and Vertex: the region's public endpoint. */
  baseUrl: string;
  id: string;
  local: boolean;
  needsKey: boolean;
  region?: string;
}

export const PRESETS: readonly Preset[] = [
  { key: "ollama", label: "Ollama", kind: "ollama", baseUrl: "http://127.0.0.1:11434", id: "ollama", local: true, needsKey: false },
  { key: "lmstudio", label: "LM Studio", kind: "openai_chat", baseUrl: "http://127.0.0.1:1234/v1", id: "lmstudio", local: true, needsKey: false },
  { key: "vllm", label: "vLLM", kind: "openai_chat", baseUrl: "http://127.0.0.1:8000/v1", id: "vllm", local: true, needsKey: false },
  { key: "llamacpp", label: "llama.cpp server", kind: "openai_chat", baseUrl: "http://127.0.0.1:8080/v1", id: "llamacpp", local: true, needsKey: false },
  { key: "anthropic", label: "Anthropic", kind: "anthropic", baseUrl: "https://api.anthropic.com", id: "anthropic", local: false, needsKey: true },
  { key: "openai", label: "OpenAI", kind: "openai_chat", baseUrl: "https://api.openai.com/v1", id: "openai", local: false, needsKey: true },
  { key: "openrouter", label: "OpenRouter", kind: "openai_chat", baseUrl: "https://openrouter.ai/api/v1", id: "openrouter", local: false, needsKey: true },
  { key: "deepseek", label: "DeepSeek", kind: "anthropic", baseUrl: "https://api.deepseek.com/anthropic", id: "deepseek", local: false, needsKey: true },
  { key: "moonshot", label: "Moonshot / Kimi", kind: "anthropic", baseUrl: "https://api.moonshot.ai/anthropic", id: "kimi", local: false, needsKey: true },
  { key: "zhipu", label: "Zhipu GLM", kind: "anthropic", baseUrl: "https://open.bigmodel.cn/api/anthropic", id: "glm", local: false, needsKey: true },
  { key: "dashscope", label: "Qwen / DashScope", kind: "openai_chat", baseUrl: "https://dashscope.aliyuncs.com/compatible-mode/v1", id: "qwen", local: false, needsKey: true },
  { key: "groq", label: "Groq", kind: "openai_chat", baseUrl: "https://api.groq.com/openai/v1", id: "groq", local: false, needsKey: true },
  { key: "bedrock", label: "Amazon Bedrock", kind: "bedrock", baseUrl: "", id: "bedrock", local: false, needsKey: true, region: "us-east-1" },
  { key: "vertex", label: "Google Vertex AI", kind: "vertex", baseUrl: "", id: "vertex", local: false, needsKey: true, region: "us-east5" },
  { key: "custom-openai", label: "Custom (OpenAI-compatible)", kind: "openai_chat", baseUrl: "http://127.0.0.1:8000/v1", id: "custom", local: false, needsKey: false },
  { key: "custom-anthropic", label: "Custom (Anthropic-compatible)", kind: "anthropic", baseUrl: "https://", id: "custom", local: false, needsKey: true },
];

export function presetByKey(key: string): Preset | undefined {
  return PRESETS.find((p) => p.key === key);
}

/** Bedrock and Vertex: reached by region (and project), their URL optional. */
export function isCloudKind(kind: Kind): boolean {
  return kind === "bedrock" || kind === "vertex";
}

/** Best guess of which preset an existing backend came from (for its logo/label). */
export function presetFor(kind: Kind, baseUrl: string): Preset | undefined {
  const url = baseUrl.replace(/\/+$/, "");
  return PRESETS.find((p) => p.kind === kind && p.baseUrl === url && !p.key.startsWith("custom"));
}
