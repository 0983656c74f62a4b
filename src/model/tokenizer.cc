// The tiktoken-compatible tokenizers behind GetTokenizer: rank file + pre-tokenizer + BPE.
#include "chorus/tokenizer.h"

#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <utility>

#include "model/tokenizer_bpe.h"
#include "model/tokenizer_ranks.h"
#include "model/tokenizer_split.h"

#ifndef CHORUS_TOKENIZER_DATA_DIR
#define CHORUS_TOKENIZER_DATA_DIR CHORUS_SOURCE_DIR "/node_modules/gpt-tokenizer/data"
#endif

namespace chorus {
namespace {

using tokenizer::kNoRank;
using tokenizer::PieceSplitter;
using tokenizer::RankTable;

struct SpecialToken {
  std::string_view text;
  uint32_t id;
};

// tiktoken's special tokens for each encoding (tiktoken_ext/openai_public.py).
constexpr std::array<SpecialToken, 5> kCl100kSpecials = {{
    {"<|endoftext|>", 100257},
    {"<|fim_prefix|>", 100258},
    {"<|fim_middle|>", 100259},
    {"<|fim_suffix|>", 100260},
    {"<|endofprompt|>", 100276},
}};
constexpr std::array<SpecialToken, 2> kO200kSpecials = {{
    {"<|endoftext|>", 199999},
    {"<|endofprompt|>", 200018},
}};

struct EncodingSpec {
  std::string_view name;
  std::string (*pattern)();
  std::span<const SpecialToken> specials;
};

const std::array<EncodingSpec, 2>& Specs() {
  static const std::array<EncodingSpec, 2> specs = {{
      {"cl100k_base", &tokenizer::Cl100kPattern, kCl100kSpecials},
      {"o200k_base", &tokenizer::O200kPattern, kO200kSpecials},
  }};
  return specs;
}

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(const EncodingSpec& spec, RankTable ranks, std::unique_ptr<PieceSplitter> split)
      : spec_(spec), ranks_(std::move(ranks)), split_(std::move(split)) {}

  std::vector<uint32_t> Encode(std::string_view text) const override {
    std::vector<uint32_t> out;
    out.reserve(text.size() / 3 + 1);
    EncodeOrdinary(text, &out);
    return out;
  }

  std::vector<uint32_t> EncodeAllowingSpecial(std::string_view text) const override {
    std::vector<uint32_t> out;
    out.reserve(text.size() / 3 + 1);
    while (!text.empty()) {
      size_t at = std::string_view::npos;
      const SpecialToken* found = nullptr;
      for (const SpecialToken& special : spec_.specials) {
        const size_t pos = text.find(special.text);
        if (pos < at) {
          at = pos;
          found = &special;
        }
      }
      if (found == nullptr) {
        EncodeOrdinary(text, &out);
        break;
      }
      EncodeOrdinary(text.substr(0, at), &out);
      out.push_back(found->id);
      text.remove_prefix(at + found->text.size());
    }
    return out;
  }

  size_t Count(std::string_view text) const override {
    // Reuses one buffer per thread for multi-token pieces: counting is hot in context budgeting.
    thread_local std::vector<uint32_t> scratch;
    size_t count = 0;
    split_->ForEach(text, [&](std::string_view piece) {
      if (ranks_.Find(piece) != kNoRank) {
        ++count;
        return;
      }
      scratch.clear();
      tokenizer::BytePairEncode(ranks_, piece, &scratch);
      count += scratch.size();
    });
    return count;
  }

  std::string Decode(std::span<const uint32_t> tokens) const override {
    std::string out;
    for (const uint32_t id : tokens) {
      const std::string_view bytes = ranks_.Bytes(id);
      if (!bytes.empty()) {
        out += bytes;
        continue;
      }
      for (const SpecialToken& special : spec_.specials) {
        if (special.id == id) out += special.text;
      }
    }
    return out;
  }

  std::string_view name() const override { return spec_.name; }

 private:
  void EncodeOrdinary(std::string_view text, std::vector<uint32_t>* out) const {
    split_->ForEach(text, [&](std::string_view piece) {
      // Most pieces are whole tokens; only the rest pay for merging.
      const uint32_t rank = ranks_.Find(piece);
      if (rank != kNoRank) {
        out->push_back(rank);
      } else {
        tokenizer::BytePairEncode(ranks_, piece, out);
      }
    });
  }

  const EncodingSpec& spec_;
  RankTable ranks_;
  std::unique_ptr<PieceSplitter> split_;
};

Result<std::unique_ptr<BpeTokenizer>> Load(const EncodingSpec& spec) {
  const std::string path = TokenizerDataDir() + "/" + std::string(spec.name) + ".tiktoken";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Err(Status::NotFound("tokenizer " + std::string(spec.name) +
                                ": expected a rank file at " + path +
                                ", found none (run scripts/setup.sh, or set "
                                "CHORUS_TOKENIZER_DATA to the directory that holds it)"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto ranks = RankTable::Parse(text.str(), path);
  if (!ranks) return Err(ranks.error());
  auto split = PieceSplitter::Create(spec.pattern());
  if (!split) return Err(split.error());
  for (const SpecialToken& special : spec.specials) {
    if (!ranks->Bytes(special.id).empty()) {
      return Err(Status::DataLoss(path + ": expected rank " + std::to_string(special.id) +
                                  " to be free for " + std::string(special.text) +
                                  ", found it used by an ordinary token"));
    }
  }
  return std::make_unique<BpeTokenizer>(spec, std::move(*ranks), std::move(*split));
}

struct Slot {
  std::once_flag once;
  std::unique_ptr<BpeTokenizer> tokenizer;
  Status error;
};

}  // namespace

std::string TokenizerDataDir() {
  const char* env = std::getenv("CHORUS_TOKENIZER_DATA");
  if (env != nullptr && *env != '\0') return env;
  return CHORUS_TOKENIZER_DATA_DIR;
}

Result<const Tokenizer*> GetTokenizer(std::string_view name) {
  static std::array<Slot, 2> slots;
  const auto& specs = Specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name != name) continue;
    Slot& slot = slots[i];
    std::call_once(slot.once, [&] {
      auto loaded = Load(specs[i]);
      if (loaded) {
        slot.tokenizer = std::move(*loaded);
      } else {
        slot.error = loaded.error();
      }
    });
    if (slot.tokenizer == nullptr) return Err(slot.error);
    return slot.tokenizer.get();
  }
  return Err(Status::NotFound("tokenizer: expected \"cl100k_base\" or \"o200k_base\", found \"" +
                              std::string(name) + "\""));
}

}  // namespace chorus
