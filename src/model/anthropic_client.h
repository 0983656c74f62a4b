// The Anthropic Messages wire protocol (POST {base_url}/v1/messages): request encoding (system
// messages lifted to the top-level "system") and a decoder for JSON and SSE answers
// (message_start, content_block_delta, message_delta, message_stop, ping, error). Immutable
// once built; share freely between threads.
#pragma once

#include <memory>
#include <string>

#include "chorus/model_client.h"
#include "model/chat_decoder.h"

namespace chorus {

inline constexpr char kAnthropicDefaultBaseUrl[] = "https://api.anthropic.com";
inline constexpr char kAnthropicVersion[] = "2023-06-01";

// `api_key`: sent as x-api-key, empty for none. The protocol keeps a copy of `config`.
std::unique_ptr<ChatProtocol> MakeAnthropicProtocol(const EndpointConfig& config,
                                                    std::string api_key);

}  // namespace chorus
