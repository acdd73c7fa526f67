// Binary save/restore of a channel's state (State.h):
//   "MFXS" | u32 version = 2 | u32 nLayers | u32 dInner | u32 dConv | u32 dState | u64 fingerprint |
//   per layer: conv (dInner, dConv - 1) then ssm (dInner, dState), F32
// All integers and floats little-endian. Version 1 has no fingerprint field.
#include "State.h"
#include "../Model/ModelError.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

namespace mfx {

namespace {

constexpr std::uint32_t kStateVersion = 2;
constexpr size_t kHeaderBytesV1 = 4 + 5 * 4;
constexpr size_t kHeaderBytes = kHeaderBytesV1 + 8;

void putU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint32_t getU32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint64_t getU64(const std::uint8_t* p) { return static_cast<std::uint64_t>(getU32(p)) | static_cast<std::uint64_t>(getU32(p + 4)) << 32; }

size_t convSize(const Config& c) { return static_cast<size_t>(c.dInner()) * static_cast<size_t>(c.dConv - 1); }
size_t ssmSize(const Config& c) { return static_cast<size_t>(c.dInner()) * static_cast<size_t>(c.dState); }

std::string dims(std::uint32_t nLayers, std::uint32_t dInner, std::uint32_t dConv, std::uint32_t dState) {
    return "nLayers " + std::to_string(nLayers) + ", dInner " + std::to_string(dInner) + ", dConv " +
           std::to_string(dConv) + ", dState " + std::to_string(dState);
}

std::vector<std::uint8_t> serializeWith(const State& state, const Config& config, std::uint64_t fingerprint) {
    config.validate();
    if (state.layers.size() != static_cast<size_t>(config.nLayers))
        throw ModelError("cannot save the state: it has " + std::to_string(state.layers.size()) +
                         " layers but the model has " + std::to_string(config.nLayers));
    for (size_t l = 0; l < state.layers.size(); ++l)
        if (state.layers[l].conv.size() != convSize(config) || state.layers[l].ssm.size() != ssmSize(config))
            throw ModelError("cannot save the state: layer " + std::to_string(l) + " is not sized for the model (" +
                             dims(static_cast<std::uint32_t>(config.nLayers), static_cast<std::uint32_t>(config.dInner()),
                                  static_cast<std::uint32_t>(config.dConv), static_cast<std::uint32_t>(config.dState)) +
                             ")");

    std::vector<std::uint8_t> out;
    out.reserve(kHeaderBytes + 4 * static_cast<size_t>(config.nLayers) * (convSize(config) + ssmSize(config)));
    for (const char magic : {'M', 'F', 'X', 'S'}) out.push_back(static_cast<std::uint8_t>(magic));
    putU32(out, kStateVersion);
    putU32(out, static_cast<std::uint32_t>(config.nLayers));
    putU32(out, static_cast<std::uint32_t>(config.dInner()));
    putU32(out, static_cast<std::uint32_t>(config.dConv));
    putU32(out, static_cast<std::uint32_t>(config.dState));
    putU32(out, static_cast<std::uint32_t>(fingerprint));
    putU32(out, static_cast<std::uint32_t>(fingerprint >> 32));
    for (const auto& layer : state.layers)
        for (const auto* v : {&layer.conv, &layer.ssm})
            for (float f : *v) putU32(out, std::bit_cast<std::uint32_t>(f));
    return out;
}

// expectFingerprint 0: accept any
State deserializeWith(const std::vector<std::uint8_t>& bytes, const Config& config, std::uint64_t expectFingerprint) {
    config.validate();
    if (bytes.size() < kHeaderBytesV1)
        throw ModelError("state data is truncated: " + std::to_string(bytes.size()) + " bytes, but even the header needs " +
                         std::to_string(kHeaderBytesV1));
    if (std::memcmp(bytes.data(), "MFXS", 4) != 0)
        throw ModelError("not a MambaFX state: the data does not start with \"MFXS\"");
    const std::uint8_t* p = bytes.data() + 4;
    const std::uint32_t version = getU32(p);
    if (version != 1 && version != kStateVersion)
        throw ModelError("unsupported state version " + std::to_string(version) + " (this build reads versions 1 and " +
                         std::to_string(kStateVersion) + ")");
    const size_t headerBytes = version == 1 ? kHeaderBytesV1 : kHeaderBytes;
    if (bytes.size() < headerBytes)
        throw ModelError("state data is truncated: " + std::to_string(bytes.size()) + " bytes, but even the header needs " +
                         std::to_string(headerBytes));
    const std::uint32_t nLayers = getU32(p + 4), dInner = getU32(p + 8), dConv = getU32(p + 12), dState = getU32(p + 16);
    const auto want = dims(static_cast<std::uint32_t>(config.nLayers), static_cast<std::uint32_t>(config.dInner()),
                           static_cast<std::uint32_t>(config.dConv), static_cast<std::uint32_t>(config.dState));
    const auto got = dims(nLayers, dInner, dConv, dState);
    if (got != want)
        throw ModelError("the state was saved for a different model shape (" + got + ") than this model's (" + want +
                         "); it cannot be restored");
    const size_t perLayer = convSize(config) + ssmSize(config);
    const size_t expected = headerBytes + 4 * static_cast<size_t>(config.nLayers) * perLayer;
    if (bytes.size() < expected)
        throw ModelError("state data is truncated: " + std::to_string(bytes.size()) + " bytes, expected " +
                         std::to_string(expected));
    if (bytes.size() > expected)
        throw ModelError("state data has " + std::to_string(bytes.size() - expected) +
                         " unexpected trailing bytes (expected " + std::to_string(expected) + " bytes in all)");
    // After the length checks, so a damaged file is reported as damaged, not as another model's.
    const std::uint64_t fingerprint = version == 1 ? 0 : getU64(p + 20);
    if (expectFingerprint != 0 && fingerprint != 0 && fingerprint != expectFingerprint)
        throw ModelError("the state was saved by a different model (same shape, other weights); restoring it would not "
                         "continue that model's sound: load the model it was saved with, or reset the state");

    State state(config);
    p = bytes.data() + headerBytes;
    for (size_t l = 0; l < state.layers.size(); ++l) {
        for (auto* v : {&state.layers[l].conv, &state.layers[l].ssm}) {
            for (size_t i = 0; i < v->size(); ++i, p += 4) {
                const float f = std::bit_cast<float>(getU32(p));
                if (!std::isfinite(f))
                    throw ModelError("state value " + std::to_string(i) + " of layer " + std::to_string(l) + " (" +
                                     (v == &state.layers[l].conv ? "conv" : "ssm") +
                                     ") is not finite; the state is corrupt");
                (*v)[i] = f;
            }
        }
    }
    return state;
}

} // namespace

std::uint64_t modelFingerprint(const Model& model) {
    std::uint64_t h = 1469598103934665603ull; // FNV-1a offset basis
    auto eat = [&h](std::uint8_t b) { h = (h ^ b) * 1099511628211ull; };
    // The config as fixed-width numbers (not its JSON text, whose formatting may change between builds).
    const Config& c = model.config;
    const std::uint64_t rateBits = std::bit_cast<std::uint64_t>(c.sampleRate);
    for (const std::uint64_t v : {std::uint64_t(c.dModel), std::uint64_t(c.nLayers), std::uint64_t(c.dState),
                                  std::uint64_t(c.dConv), std::uint64_t(c.expand), std::uint64_t(c.dtRank),
                                  std::uint64_t(c.nCond), rateBits})
        for (int i = 0; i < 8; ++i) eat(static_cast<std::uint8_t>(v >> (8 * i)));
    for (const auto& t : tensorTable(model.config, model.weights))
        for (const float v : *t.data) {
            const std::uint32_t bits = std::bit_cast<std::uint32_t>(v);
            for (int i = 0; i < 4; ++i) eat(static_cast<std::uint8_t>(bits >> (8 * i)));
        }
    return h == 0 ? 1 : h;
}

std::vector<std::uint8_t> serializeState(const State& state, const Config& config) { return serializeWith(state, config, 0); }
std::vector<std::uint8_t> serializeState(const State& state, const Model& model) {
    return serializeWith(state, model.config, modelFingerprint(model));
}
State deserializeState(const std::vector<std::uint8_t>& bytes, const Config& config) { return deserializeWith(bytes, config, 0); }
State deserializeState(const std::vector<std::uint8_t>& bytes, const Model& model) {
    return deserializeWith(bytes, model.config, modelFingerprint(model));
}

} // namespace mfx
