// Node-API bindings: the shared deque as a JS class, and thread pinning.
//
// Every worker thread loads the addon into its own environment; the objects here only point into
// the SharedArrayBuffer the pool created, and hold a reference to its views so that the memory
// outlives them.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "affinity.h"
#include "shared_deque.h"
#include "slot_claim.h"

namespace {

using viscose::ClaimTable;
using viscose::DequeWords;
using viscose::SharedDeque;
using viscose::SlotClaimer;
using viscose::StateEncoding;
using viscose::StealResult;

// steal() returns a claimed slot (>= 0), kEmpty, kRetry, or a withdrawn call's slot encoded below
// kRetry, so that a steal is one call with one number back.
constexpr int32_t kWithdrawnBase = -3;

std::optional<Napi::TypedArrayOf<int32_t>> int32_array(const Napi::CallbackInfo& info, size_t index, const char* what) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be an Int32Array").ThrowAsJavaScriptException();
    return std::nullopt;
  }
  return value.As<Napi::TypedArrayOf<int32_t>>();
}

// A word index below `limit` that fits the 32 bits the deque and the claim table keep it in.
std::optional<uint32_t> word_index(const Napi::CallbackInfo& info, size_t index, const char* what, size_t limit) {
  const Napi::Value value = info[index];
  if (!value.IsNumber() || value.As<Napi::Number>().Int64Value() < 0 ||
      value.As<Napi::Number>().Int64Value() > static_cast<int64_t>(UINT32_MAX) ||
      static_cast<size_t>(value.As<Napi::Number>().Int64Value()) >= limit) {
    Napi::RangeError::New(info.Env(), std::string(what) + " is not a word of the given array").ThrowAsJavaScriptException();
    return std::nullopt;
  }
  return value.As<Napi::Number>().Uint32Value();
}

// The constructor's arguments, checked so that no later call can address memory outside the arrays.
struct DequeArguments {
  DequeWords at;
  ClaimTable table;
  StateEncoding encoding;
};

std::optional<DequeArguments> deque_arguments(const Napi::CallbackInfo& info) {
  if (info.Length() != 10) {
    Napi::TypeError::New(info.Env(), "NativeDeque(words, top, bottom, ring, capacity, claimWords, claimBase, claimStride, slotBits, encoding)")
        .ThrowAsJavaScriptException();
    return std::nullopt;
  }
  DequeArguments args{};
  auto words = int32_array(info, 0, "words");
  if (!words) return std::nullopt;
  const size_t length = words->ElementLength();
  auto top = word_index(info, 1, "top", length);
  auto bottom = top ? word_index(info, 2, "bottom", length) : std::nullopt;
  auto ring = bottom ? word_index(info, 3, "ring", length) : std::nullopt;
  if (!ring) return std::nullopt;
  const uint32_t capacity = info[4].ToNumber().Uint32Value();
  if (capacity == 0 || (capacity & (capacity - 1)) != 0 || *ring + static_cast<size_t>(capacity) > length) {
    Napi::RangeError::New(info.Env(), "capacity must be a power of two whose ring fits in words").ThrowAsJavaScriptException();
    return std::nullopt;
  }
  args.at = DequeWords{words->Data(), *top, *bottom, *ring, capacity};

  auto claim_words = int32_array(info, 5, "claimWords");
  if (!claim_words) return std::nullopt;
  auto base = word_index(info, 6, "claimBase", claim_words->ElementLength());
  if (!base) return std::nullopt;
  const uint32_t stride = info[7].ToNumber().Uint32Value();
  const uint32_t slot_bits = info[8].ToNumber().Uint32Value();
  if (stride == 0 || slot_bits == 0 || slot_bits > 31) {
    Napi::RangeError::New(info.Env(), "invalid claim table geometry").ThrowAsJavaScriptException();
    return std::nullopt;
  }
  // Entries name at most 2^31 slots (slot_bits <= 31), so the count is capped there, not truncated.
  const auto slots_in_array = static_cast<uint32_t>(
      std::min<size_t>((claim_words->ElementLength() - *base + stride - 1) / stride, size_t{1} << 31));
  args.table = ClaimTable{claim_words->Data(), *base, stride, slot_bits, slots_in_array};

  auto encoding = int32_array(info, 9, "encoding");
  if (!encoding || encoding->ElementLength() != 8) {
    if (encoding) Napi::RangeError::New(info.Env(), "encoding must hold 8 words").ThrowAsJavaScriptException();
    return std::nullopt;
  }
  const int32_t* e = encoding->Data();
  args.encoding = StateEncoding{static_cast<uint32_t>(e[0]), static_cast<uint32_t>(e[1]), static_cast<uint32_t>(e[2]),
                                static_cast<uint32_t>(e[3]), e[4], e[5], e[6], e[7]};
  return args;
}

class NativeDeque : public Napi::ObjectWrap<NativeDeque> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeDeque",
                       {
                           InstanceMethod<&NativeDeque::Push>("push"),
                           InstanceMethod<&NativeDeque::Pop>("pop"),
                           InstanceMethod<&NativeDeque::Steal>("steal"),
                           InstanceMethod<&NativeDeque::HasRoom>("hasRoom"),
                           InstanceMethod<&NativeDeque::Size>("size"),
                           InstanceMethod<&NativeDeque::Reset>("reset"),
                           InstanceMethod<&NativeDeque::AdoptOwnership>("adoptOwnership"),
                       });
  }

  explicit NativeDeque(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeDeque>(info) {
    auto args = deque_arguments(info);
    if (!args) return;
    // Keep the views (and so the shared memory) alive as long as this object.
    words_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    claim_words_ref_ = Napi::Persistent(info[5].As<Napi::Object>());
    deque_.emplace(args->at);
    claimer_.emplace(args->table, args->encoding);
  }

 private:
  // Calls are made by viscose's own wrapper (src/queue/native-deque.ts), which passes numbers of
  // the right kind: the per-call checks are the ones that keep memory safe, nothing more.

  Napi::Value Push(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), deque_->push(info[0].As<Napi::Number>().Int32Value()));
  }

  Napi::Value Pop(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), deque_->pop()); }

  Napi::Value Steal(const Napi::CallbackInfo& info) {
    const uint32_t worker = info[0].As<Napi::Number>().Uint32Value();
    const bool take_withdrawn = info[1].As<Napi::Boolean>().Value();
    const StealResult result = deque_->steal(*claimer_, worker, take_withdrawn);
    switch (result.kind) {
      case StealResult::kClaimed:
        return Napi::Number::New(info.Env(), result.slot);
      case StealResult::kWithdrawn:
        return Napi::Number::New(info.Env(), kWithdrawnBase - result.slot);
      case StealResult::kEmpty:
        return Napi::Number::New(info.Env(), viscose::kEmpty);
      default:
        return Napi::Number::New(info.Env(), viscose::kRetry);
    }
  }

  Napi::Value HasRoom(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), deque_->has_room()); }

  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), deque_->size()); }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    deque_->reset(info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : 0);
    return info.Env().Undefined();
  }

  Napi::Value AdoptOwnership(const Napi::CallbackInfo& info) {
    const std::vector<int32_t> entries = deque_->adopt_ownership();
    Napi::Array out = Napi::Array::New(info.Env(), entries.size());
    for (uint32_t i = 0; i < entries.size(); i++) out.Set(i, Napi::Number::New(info.Env(), entries[i]));
    return out;
  }

  Napi::ObjectReference words_ref_;
  Napi::ObjectReference claim_words_ref_;
  std::optional<SharedDeque> deque_;
  std::optional<SlotClaimer> claimer_;
};

Napi::Value AllowedCpus(const Napi::CallbackInfo& info) {
  const std::vector<int> cpus = viscose::allowed_cpus();
  Napi::Array out = Napi::Array::New(info.Env(), cpus.size());
  for (uint32_t i = 0; i < cpus.size(); i++) out.Set(i, Napi::Number::New(info.Env(), cpus[i]));
  return out;
}

Napi::Value PinThread(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "pinThread(cpu) needs a CPU number").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  const std::string error = viscose::pin_current_thread(info[0].As<Napi::Number>().Int32Value());
  if (!error.empty()) Napi::Error::New(info.Env(), "could not pin the thread: " + error).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeDeque", NativeDeque::Define(env));
  exports.Set("canPinThreads", Napi::Boolean::New(env, viscose::can_pin_threads()));
  exports.Set("allowedCpus", Napi::Function::New<AllowedCpus>(env, "allowedCpus"));
  exports.Set("pinThread", Napi::Function::New<PinThread>(env, "pinThread"));
  return exports;
}

}  // namespace

NODE_API_MODULE(viscose_native, Init)
