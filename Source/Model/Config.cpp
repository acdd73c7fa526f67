#include "Config.h"
#include "ModelError.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

namespace mfx {

namespace {

using nlohmann::json;

void checkRange(const char* field, long long value, long long lo, long long hi) {
    if (value < lo || value > hi)
        throw ModelError("config " + std::string(field) + " = " + std::to_string(value) + " is out of range (allowed " +
                         std::to_string(lo) + ".." + std::to_string(hi) + ")");
}

std::string formatRate(double r) {
    std::ostringstream s;
    s << r;
    return s.str();
}

// Reads an integer field; `present` tells whether the key was there at all.
bool readInt(const json& j, const char* key, int& out) {
    auto it = j.find(key);
    if (it == j.end()) return false;
    if (!it->is_number_integer())
        throw ModelError("config key '" + std::string(key) + "' must be an integer, got " +
                         std::string(it->type_name()) + (it->is_number_float() ? " " + it->dump() : std::string()));
    const bool fits = it->is_number_unsigned()
                          ? it->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<int>::max())
                          : it->get<std::int64_t>() >= std::numeric_limits<int>::min();
    if (!fits)
        throw ModelError("config " + std::string(key) + " = " + it->dump() + " is out of range (does not fit an int)");
    const long long v = it->get<std::int64_t>();
    out = static_cast<int>(v);
    return true;
}

} // namespace

void Config::validate() const {
    checkRange("d_model", dModel, 1, 1024);
    checkRange("n_layers", nLayers, 1, 64);
    checkRange("d_state", dState, 1, 256);
    checkRange("d_conv", dConv, 1, 16);
    checkRange("expand", expand, 1, 8);
    checkRange("dt_rank", dtRank, 1, 1024);
    checkRange("n_cond", nCond, 0, 16);
    if (!std::isfinite(sampleRate) || sampleRate < 8000.0 || sampleRate > 384000.0)
        throw ModelError("config sample_rate = " + formatRate(sampleRate) +
                         " is out of range (allowed 8000..384000 Hz, finite)");
}

std::string Config::toJson() const {
    // Insertion order kept so the file reads in the documented order.
    nlohmann::ordered_json j;
    j["d_model"] = dModel;
    j["n_layers"] = nLayers;
    j["d_state"] = dState;
    j["d_conv"] = dConv;
    j["expand"] = expand;
    j["dt_rank"] = dtRank;
    j["n_cond"] = nCond;
    // Integral rates are written as integers ("48000", not "48000.0"); others round-trip exactly.
    if (std::isfinite(sampleRate) && sampleRate == std::floor(sampleRate) && std::fabs(sampleRate) < 1e15)
        j["sample_rate"] = static_cast<long long>(sampleRate);
    else
        j["sample_rate"] = sampleRate;
    return j.dump();
}

Config Config::fromJson(const std::string& text) {
    // nlohmann's lexer takes a NUL for the end of input: whatever followed it would be ignored.
    if (const auto nul = text.find('\0'); nul != std::string::npos)
        throw ModelError("config contains a NUL character at offset " + std::to_string(nul) +
                         "; the config must be plain JSON text");
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw ModelError("config is not valid JSON (" + std::string(e.what()).substr(0, 200) + ")");
    }
    if (!j.is_object())
        throw ModelError("config must be a JSON object like {\"d_model\":16,...}, got " + std::string(j.type_name()));

    static const char* const known[] = {"d_model", "n_layers", "d_state", "d_conv",
                                        "expand",  "dt_rank",  "n_cond",  "sample_rate"};
    for (const auto& item : j.items()) {
        bool ok = false;
        for (const char* k : known) ok = ok || item.key() == k;
        if (!ok)
            throw ModelError("config has an unknown key '" + item.key().substr(0, 100) +
                             "' (known: d_model, n_layers, d_state, d_conv, expand, dt_rank, n_cond, sample_rate)");
    }

    Config c;
    for (const auto& [key, field] : {std::pair<const char*, int*>{"d_model", &c.dModel},
                                     {"n_layers", &c.nLayers},
                                     {"d_state", &c.dState},
                                     {"d_conv", &c.dConv},
                                     {"expand", &c.expand}}) {
        if (!readInt(j, key, *field)) throw ModelError("config is missing the required key '" + std::string(key) + "'");
    }
    if (!readInt(j, "dt_rank", c.dtRank)) c.dtRank = defaultDtRank(c.dModel);
    if (!readInt(j, "n_cond", c.nCond)) c.nCond = 0;
    c.sampleRate = 48000.0;
    if (auto it = j.find("sample_rate"); it != j.end()) {
        if (!it->is_number())
            throw ModelError("config key 'sample_rate' must be a number, got " + std::string(it->type_name()));
        c.sampleRate = it->get<double>();
    }
    c.validate();
    return c;
}

std::string Config::summary() const {
    std::ostringstream s;
    s << "dModel " << dModel << ", nLayers " << nLayers << ", dState " << dState << ", dConv " << dConv << ", expand "
      << expand << " (dInner " << dInner() << "), dtRank " << dtRank << ", nCond " << nCond << ", " << sampleRate
      << " Hz, " << parameterCount() << " parameters";
    return s.str();
}

// Sum over the tensors of Weights.h (see tensorTable): per layer
//   in_proj 2*dInner*dModel, conv1d dInner*dConv + dInner, x_proj (dtRank+2*dState)*dInner,
//   dt_proj dInner*dtRank + dInner, A_log dInner*dState, D dInner, out_proj dModel*dInner, norm dModel;
// plus embedding dModel*(1+nCond) + dModel, norm_f dModel, head dModel + 1, skip 1.
// The model-file tests check this against the table.
long long Config::parameterCount() const {
    const long long dm = dModel, di = dInner(), ds = dState, dc = dConv, r = dtRank;
    const long long perLayer = 2 * di * dm + di * dc + di + (r + 2 * ds) * di + di * r + di + di * ds + di + dm * di + dm;
    return static_cast<long long>(nLayers) * perLayer + dm * (1 + nCond) + dm + dm + dm + 1 + 1;
}

} // namespace mfx
