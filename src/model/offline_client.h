// The built-in `offline` model: answers without any network or key, deterministically.
//
// It is not an echo. Given a request that carries a brief (ChatRequest::brief, the
// DelegationBrief JSON form), it returns a well-formed instance of the expected output filled
// from the brief itself: the objective restated, the constraints as a checklist, the context
// summarized by extraction, every required Markdown section, or JSON generated from the
// schema. Without a brief it summarizes the last user message. Every answer says it came
// from `offline`. Submit() runs the callback on the calling thread before returning; the
// client is safe to use from several threads at once.
#pragma once

#include <memory>

#include "chorus/model_client.h"

namespace chorus {

Result<std::unique_ptr<ModelClient>> MakeOfflineClient(const EndpointConfig& config);

}  // namespace chorus
