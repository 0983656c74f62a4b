// The OpenAI-compatible Chat Completions wire protocol (POST {base_url}/chat/completions), as
// spoken by OpenAI, llama.cpp's server, vLLM, Ollama, LM Studio, OpenRouter…: request encoding
// and a decoder for JSON and SSE answers. Immutable once built; share freely between threads.
#pragma once

#include <memory>
#include <string>

#include "chorus/model_client.h"
#include "model/chat_decoder.h"

namespace chorus {

// `api_key`: the key's value (sent as "Authorization: Bearer"), empty for none. The protocol
// keeps a copy of `config`.
std::unique_ptr<ChatProtocol> MakeOpenAIProtocol(const EndpointConfig& config, std::string api_key);

}  // namespace chorus
