// Config JSON (defaults, errors, ranges) and the binary state format of State.h.
#include "Engine/State.h"
#include "Model/Config.h"
#include "Model/ModelError.h"
#include "Model/RandomModel.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace mfx;

namespace {

const char* kMinimal = R"({"d_model":40,"n_layers":1,"d_state":4,"d_conv":4,"expand":2})";

Config smallConfig() {
    Config c;
    c.dModel = 6;
    c.nLayers = 3;
    c.dState = 5;
    c.dConv = 4;
    c.expand = 2;
    c.dtRank = 1;
    return c;
}

State randomState(const Config& c, std::uint64_t seed) {
    State s(c);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> d(0.0f, 2.0f);
    for (auto& l : s.layers) {
        for (auto& v : l.conv) v = d(rng);
        for (auto& v : l.ssm) v = d(rng);
    }
    return s;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

} // namespace

TEST_CASE("Config JSON: required keys and defaults", "[model-file]") {
    const Config c = Config::fromJson(kMinimal);
    CHECK(c.dModel == 40);
    CHECK(c.nLayers == 1);
    CHECK(c.dState == 4);
    CHECK(c.dConv == 4);
    CHECK(c.expand == 2);
    CHECK(c.dtRank == 3); // ceil(40 / 16)
    CHECK(c.nCond == 0);
    CHECK(c.sampleRate == 48000.0);
    CHECK(c.dInner() == 80);

    for (double rate : {44100.0, 96000.0, 44100.5, 8000.0, 384000.0}) {
        Config r = c;
        r.nCond = 2;
        r.dtRank = 7;
        r.sampleRate = rate;
        CHECK(Config::fromJson(r.toJson()) == r);
    }
    CHECK(Config::fromJson(c.toJson()) == c);
    CHECK_THAT(c.toJson(), Catch::Contains("\"sample_rate\":48000") && !Catch::Contains("48000.0"));
    CHECK_THAT(c.summary(), Catch::Contains("dModel 40") && Catch::Contains("parameters"));
}

TEST_CASE("Config JSON errors name the problem", "[model-file]") {
    struct Case {
        const char* json;
        const char* expected;
    };
    const Case cases[] = {
        {"{\"d_model\":", "config is not valid JSON"},
        {"[16, 2]", "must be a JSON object"},
        {R"({"d_model":16,"n_layers":2,"d_state":16,"expand":2})", "missing the required key 'd_conv'"},
        {R"({"d_model":16.0,"n_layers":2,"d_state":16,"d_conv":4,"expand":2})", "'d_model' must be an integer"},
        {R"({"d_model":16,"n_layers":"2","d_state":16,"d_conv":4,"expand":2})", "'n_layers' must be an integer, got string"},
        {R"({"d_model":16,"n_layers":2,"d_state":16,"d_conv":4,"expand":2,"sample_rate":"48k"})",
         "'sample_rate' must be a number"},
        {R"({"d_model":16,"n_layers":2,"d_state":16,"d_conv":4,"expand":2,"dropout":0.1})", "unknown key 'dropout'"},
        {R"({"d_model":16,"n_layers":2,"d_state":16,"d_conv":4,"expand":2,"dt_rank":0})",
         "dt_rank = 0 is out of range (allowed 1..1024)"},
        {R"({"d_model":16,"n_layers":2,"d_state":16,"d_conv":4,"expand":2,"n_cond":-1})",
         "n_cond = -1 is out of range (allowed 0..16)"},
        {R"({"d_model":16,"n_layers":2,"d_state":16,"d_conv":4,"expand":2,"sample_rate":1000})",
         "sample_rate = 1000 is out of range"},
        {R"({"d_model":99999999999,"n_layers":2,"d_state":16,"d_conv":4,"expand":2})",
         "d_model = 99999999999 is out of range"},
    };
    for (const auto& c : cases) {
        INFO(c.json);
        CHECK_THROWS_AS(Config::fromJson(c.json), ModelError);
        CHECK_THROWS_WITH(Config::fromJson(c.json), Catch::Contains(c.expected));
    }
}

TEST_CASE("Config::validate names the field, value and allowed range", "[model-file]") {
    struct Case {
        int Config::*field;
        int bad;
        const char* expected;
    };
    const Case cases[] = {
        {&Config::dModel, 0, "d_model = 0 is out of range (allowed 1..1024)"},
        {&Config::dModel, 1025, "d_model = 1025"},
        {&Config::nLayers, 65, "n_layers = 65 is out of range (allowed 1..64)"},
        {&Config::dState, 0, "d_state = 0 is out of range (allowed 1..256)"},
        {&Config::dConv, 17, "d_conv = 17 is out of range (allowed 1..16)"},
        {&Config::expand, 9, "expand = 9 is out of range (allowed 1..8)"},
        {&Config::dtRank, 1025, "dt_rank = 1025"},
        {&Config::nCond, 17, "n_cond = 17"},
    };
    for (const auto& c : cases) {
        Config cfg;
        REQUIRE_NOTHROW(cfg.validate());
        cfg.*c.field = c.bad;
        CHECK_THROWS_WITH(cfg.validate(), Catch::Contains(c.expected));
    }
    Config cfg;
    cfg.sampleRate = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(cfg.validate(), Catch::Contains("sample_rate = nan") && Catch::Contains("finite"));
    cfg.sampleRate = 500000;
    CHECK_THROWS_WITH(cfg.validate(), Catch::Contains("allowed 8000..384000"));
}

TEST_CASE("state serialisation round-trips bitwise", "[model-file]") {
    for (int dConv : {1, 2, 4}) {
        Config c = smallConfig();
        c.dConv = dConv;
        const State s = randomState(c, static_cast<std::uint64_t>(dConv));
        const auto bytes = serializeState(s, c);
        CHECK(bytes.size() == 32 + 4 * static_cast<size_t>(c.nLayers * c.dInner() * (c.dConv - 1 + c.dState)));
        CHECK(std::memcmp(bytes.data(), "MFXS", 4) == 0);
        const State back = deserializeState(bytes, c);
        REQUIRE(back.layers.size() == s.layers.size());
        for (size_t l = 0; l < s.layers.size(); ++l) {
            CHECK(sameBits(back.layers[l].conv, s.layers[l].conv));
            CHECK(sameBits(back.layers[l].ssm, s.layers[l].ssm));
        }
        CHECK(stateRelativeError(back, s) == 0.0);
    }
}

TEST_CASE("state deserialisation rejects bad data", "[model-file]") {
    const Config c = smallConfig();
    const auto good = serializeState(randomState(c, 3), c);
    auto with = [&](auto edit) {
        auto b = good;
        edit(b);
        return b;
    };
    Config other = c;
    other.dState = 6;

    CHECK_THROWS_WITH(deserializeState(std::vector<std::uint8_t>(good.begin(), good.begin() + 10), c),
                      Catch::Contains("truncated") && Catch::Contains("header needs 24"));
    CHECK_THROWS_WITH(deserializeState(std::vector<std::uint8_t>(good.begin(), good.begin() + 28), c),
                      Catch::Contains("truncated") && Catch::Contains("header needs 32"));
    CHECK_THROWS_WITH(deserializeState(with([](auto& b) { b[0] = 'X'; }), c), Catch::Contains("not a MambaFX state"));
    CHECK_THROWS_WITH(deserializeState(with([](auto& b) { b[4] = 3; }), c), Catch::Contains("unsupported state version 3"));
    CHECK_THROWS_WITH(deserializeState(good, other), Catch::Contains("different model shape") &&
                                                         Catch::Contains("dState 5") && Catch::Contains("dState 6"));
    CHECK_THROWS_WITH(deserializeState(with([](auto& b) { b.pop_back(); }), c),
                      Catch::Contains("truncated") && Catch::Contains("expected"));
    CHECK_THROWS_WITH(deserializeState(with([](auto& b) { b.push_back(0); }), c), Catch::Contains("trailing bytes"));
    CHECK_THROWS_WITH(deserializeState(with([](auto& b) {
                          const float inf = std::numeric_limits<float>::infinity();
                          std::memcpy(b.data() + b.size() - 4, &inf, 4);
                      }), c),
                      Catch::Contains("not finite"));

    State wrong(c);
    wrong.layers[1].ssm.pop_back();
    CHECK_THROWS_WITH(serializeState(wrong, c), Catch::Contains("layer 1 is not sized"));
    CHECK_THROWS_WITH(serializeState(State(other), c), Catch::Contains("not sized"));
}

TEST_CASE("a state saved with its model's fingerprint is refused by another model of the same shape", "[model-file]") {
    const Config c = smallConfig();
    const Model a = randomModel(c, 1), b = randomModel(c, 2);
    CHECK(modelFingerprint(a) != modelFingerprint(b));
    CHECK(modelFingerprint(a) == modelFingerprint(randomModel(c, 1)));
    const State s = randomState(c, 9);
    const auto bytes = serializeState(s, a);
    CHECK(stateRelativeError(deserializeState(bytes, a), s) == 0.0);
    CHECK(stateRelativeError(deserializeState(bytes, c), s) == 0.0); // the Config form does not check
    CHECK_THROWS_WITH(deserializeState(bytes, b), Catch::Contains("saved by a different model") && Catch::Contains("reset the state"));
    // A damaged state of another model is reported as damaged (the length is checked first).
    auto cut = bytes;
    cut.pop_back();
    CHECK_THROWS_WITH(deserializeState(cut, b), Catch::Contains("truncated"));
    // The fingerprint covers the config too: the same weights at another sample rate are another model.
    Model a48k = a, a44k = a;
    a44k.config.sampleRate = 44100.0;
    CHECK(modelFingerprint(a44k) != modelFingerprint(a48k));
    // A state saved without a fingerprint (Config form) is accepted by any model of the shape.
    CHECK(stateRelativeError(deserializeState(serializeState(s, c), b), s) == 0.0);
    // Version 1 (no fingerprint field) is still read.
    auto v1 = serializeState(s, c);
    v1[4] = 1;
    v1.erase(v1.begin() + 24, v1.begin() + 32);
    CHECK(stateRelativeError(deserializeState(v1, b), s) == 0.0);
    v1.pop_back();
    CHECK_THROWS_WITH(deserializeState(v1, c), Catch::Contains("truncated"));
}
