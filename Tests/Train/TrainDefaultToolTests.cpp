// mfx_train_default's --init-model (the maintainer tool that trained the shipped default model, see
// docs/MODELS.md "Retraining"), run as a child process: fine-tuning starts from the given weights,
// deepening keeps the trained layers and adds layers that start as the identity, and a model of
// another shape is refused with advice before any data is read. Each training run is one step at a
// negligible learning rate on the amp-capture data, so the first validation ESR measures the
// starting point: it must be the shipped model's own ESR.
#include <Model/ModelFile.h>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

using namespace mfx;
namespace fs = std::filesystem;

namespace {

struct ToolRun {
    int code = -1;
    std::string output; // stdout and stderr together
};

ToolRun runTool(const std::vector<std::string>& args) {
    std::string cmd = "'";
    cmd += MFX_TRAIN_DEFAULT_TOOL;
    cmd += "'";
    for (const auto& a : args) {
        cmd += " '";
        cmd += a;
        cmd += "'";
    }
    cmd += " 2>&1";
    ToolRun r;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) r.output += buf;
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// The first "val ESR x" the tool printed, or -1.
double firstValidationEsr(const std::string& output) {
    std::smatch m;
    static const std::regex re("val ESR ([0-9.eE+-]+)");
    return std::regex_search(output, m, re) ? std::stod(m[1].str()) : -1.0;
}

struct Paths {
    fs::path model = fs::path(MFX_SOURCE_DIR) / "Resources/Models/default.safetensors";
    fs::path data = fs::path(MFX_SOURCE_DIR) / "../shared/data/amp-capture";
    fs::path dir = fs::temp_directory_path() / ("mfx-train-default-tool-" + std::to_string(::getpid()));
    Paths() { fs::create_directories(dir); }
    ~Paths() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::vector<std::string> oneQuietStep(const Paths& p, const fs::path& out) {
    return {"--data", p.data.string(), "--init-model", p.model.string(), "-o", out.string(), "--steps", "1",
            "--validate-every", "1", "--batch", "1", "--segment", "256", "--warmup", "64", "--threads", "1",
            "--lr", "1e-7", "--lr-final", "1e-7", "--sync-val"};
}

} // namespace

TEST_CASE("mfx_train_default --init-model: another shape or a bad file is refused before any data is read", "[train]") {
    Paths p;
    p.data = p.dir / "no-such-data"; // the shape check comes first, so no data set is needed
    const int layers = loadModel(p.model.string()).config.nLayers;
    const int dState = loadModel(p.model.string()).config.dState;
    for (const auto& extra : std::vector<std::vector<std::string>>{
             {"--layers", std::to_string(layers - 2)}, {"--d-model", "16"}, {"--d-state", std::to_string(dState - 1)}}) {
        auto args = oneQuietStep(p, p.dir / "refused.safetensors");
        args.insert(args.end(), extra.begin(), extra.end());
        const ToolRun r = runTool(args);
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("pass its --d-model, --expand, --d-conv and at least its --layers and --d-state") != std::string::npos);
        CHECK_FALSE(fs::exists(p.dir / "refused.safetensors"));
    }
    // a file that is not a model: its loader's message, exit 1, no crash
    const fs::path bogus = p.dir / "not-a-model.safetensors";
    std::FILE* f = std::fopen(bogus.string().c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fputs("not a safetensors file", f);
    std::fclose(f);
    auto args = oneQuietStep(p, p.dir / "refused.safetensors");
    args[3] = bogus.string(); // --init-model's value
    const ToolRun r = runTool(args);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK(r.output.find("error: ") != std::string::npos);
    CHECK_FALSE(fs::exists(p.dir / "refused.safetensors"));
}

TEST_CASE("mfx_train_default --init-model: fine-tunes from, deepens or widens the shipped model, starting at its ESR", "[train]") {
    Paths p;
    if (!fs::exists(p.data / "val_input.flac")) {
        WARN("amp-capture data not found at " << p.data.string() << ": fine-tuning from --init-model is not exercised");
        return;
    }
    const Model shipped = loadModel(p.model.string());
    const double claimed = std::stod(shipped.metadata.at("validation_esr"));
    const int layers = shipped.config.nLayers;

    SECTION("same shape: starts from the model's weights, at its ESR") {
        const fs::path out = p.dir / "ft.safetensors";
        auto args = oneQuietStep(p, out);
        args.insert(args.end(), {"--layers", std::to_string(layers)});
        const ToolRun r = runTool(args);
        INFO(r.output);
        REQUIRE(r.code == 0);
        CHECK(r.output.find("starting from the weights of") != std::string::npos);
        const double esr = firstValidationEsr(r.output);
        CHECK(std::fabs(esr - claimed) <= 0.02 * claimed); // a random start is > 0.5
        const Model m = loadModel(out.string());
        CHECK(m.config.nLayers == layers);
        CHECK(m.metadata.at("init").find("fine-tuned from the weights of") != std::string::npos);
    }
    SECTION("more layers: the trained layers kept, the new ones start as the identity") {
        const fs::path out = p.dir / "deep.safetensors";
        auto args = oneQuietStep(p, out);
        args.insert(args.end(), {"--layers", std::to_string(layers + 2)});
        const ToolRun r = runTool(args);
        INFO(r.output);
        REQUIRE(r.code == 0);
        CHECK(r.output.find("deepened from " + std::to_string(layers) + " layers") != std::string::npos);
        const double esr = firstValidationEsr(r.output);
        CHECK(std::fabs(esr - claimed) <= 0.02 * claimed);
        const Model m = loadModel(out.string());
        REQUIRE(m.config.nLayers == layers + 2);
        // New layers at (k + 1) * n / 3 (4 and 8 for 12 layers; the mapping itself is
        // Tests/Core/TrainDeepenTest.cpp's): out_proj still ~0 after one tiny step, the layer before
        // the first new one is the shipped layer of the same index, and the metadata says what was done.
        const int n = layers + 2, first = n / 3, second = 2 * n / 3;
        CHECK(m.metadata.at("init").find("deepened from " + std::to_string(layers) + " layers: new layers " + std::to_string(first) +
                                         ", " + std::to_string(second)) != std::string::npos);
        for (int i : {first, second}) {
            float worst = 0;
            for (float w : m.weights.layers[static_cast<std::size_t>(i)].outProj) worst = std::max(worst, std::fabs(w));
            INFO("new layer " << i);
            CHECK(worst <= 1e-5f);
        }
        const auto& kept = m.weights.layers[static_cast<std::size_t>(first - 1)].ALog;
        const auto& orig = shipped.weights.layers[static_cast<std::size_t>(first - 1)].ALog;
        REQUIRE(kept.size() == orig.size());
        for (std::size_t k = 0; k < kept.size(); ++k) CHECK(kept[k] == Approx(orig[k]).margin(1e-5));
    }
    SECTION("a larger dState: the trained states kept, the new ones start silent (C at zero)") {
        const int N0 = shipped.config.dState, N = 2 * N0;
        const fs::path out = p.dir / "wide.safetensors";
        auto args = oneQuietStep(p, out);
        args.insert(args.end(), {"--layers", std::to_string(layers), "--d-state", std::to_string(N)});
        const ToolRun r = runTool(args);
        INFO(r.output);
        REQUIRE(r.code == 0);
        CHECK(r.output.find("widened from dState " + std::to_string(N0) + " to " + std::to_string(N)) != std::string::npos);
        const double esr = firstValidationEsr(r.output);
        CHECK(std::fabs(esr - claimed) <= 0.02 * claimed);
        const Model m = loadModel(out.string());
        REQUIRE(m.config.dState == N);
        CHECK(m.metadata.at("init").find("widened from dState " + std::to_string(N0) + " to " + std::to_string(N)) != std::string::npos);
        // C rows of the new states (x_proj rows dtRank + N + n, n >= N0) still ~0 after one tiny step
        const auto P = static_cast<std::size_t>(m.config.dInner()), R = static_cast<std::size_t>(m.config.dtRank);
        float worst = 0;
        for (const auto& L : m.weights.layers)
            for (std::size_t n = static_cast<std::size_t>(N0); n < static_cast<std::size_t>(N); ++n)
                for (std::size_t i = 0; i < P; ++i) worst = std::max(worst, std::fabs(L.xProj[(R + static_cast<std::size_t>(N) + n) * P + i]));
        CHECK(worst <= 1e-5f);
    }
}

TEST_CASE("mfx_train_default --steps auto: sized from the measured step rate to end within --max-seconds", "[train]") {
    Paths p;
    {
        auto args = oneQuietStep(p, p.dir / "auto.safetensors");
        args[7] = "auto"; // --steps' value, without --max-seconds
        const ToolRun r = runTool(args);
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("--steps auto sizes the schedule to --max-seconds: give --max-seconds too") != std::string::npos);
    }
    if (!fs::exists(p.data / "val_input.flac")) {
        WARN("amp-capture data not found at " << p.data.string() << ": a --steps auto run is not exercised");
        return;
    }
    const fs::path out = p.dir / "auto.safetensors";
    auto args = oneQuietStep(p, out);
    args[7] = "auto";
    args[9] = "1000000"; // --validate-every: only at the end
    args[args.size() - 4] = "1e-6"; // --lr (then --lr-final 1e-7): the decay is visible
    args.insert(args.end(), {"--max-seconds", "6", "--layers", "12", "--batch", "4"});
    const ToolRun r = runTool(args);
    INFO(r.output);
    REQUIRE(r.code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(r.output, m, std::regex(R"(--steps auto: ([0-9.]+) steps/s over the first ([0-9]+) steps, schedule of ([0-9]+) steps for 6 s)")));
    const double rate = std::stod(m[1].str());
    const long probed = std::stol(m[2].str()), steps = std::stol(m[3].str());
    CHECK(rate > 0);
    CHECK(probed >= 30);
    CHECK(steps > probed);
    // the run ended at its schedule's end with the learning rate decayed to --lr-final (the step
    // printed last), not at the time limit; on a machine loaded after the probe the time may run out
    // first, but not before most of the schedule
    long lastStep = -1;
    double lastLr = 0;
    static const std::regex stepRe(R"(step ([0-9]+)  train loss [^\n]* lr ([0-9.e+-]+))");
    for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), stepRe); it != std::sregex_iterator(); ++it) {
        lastStep = std::stol((*it)[1].str());
        lastLr = std::stod((*it)[2].str());
    }
    REQUIRE(lastStep > 0);
    if (lastStep == steps) {
        CHECK(lastLr == Approx(1e-7).epsilon(0.02));
    } else {
        WARN("the time ran out at step " << lastStep << " of " << steps << " (a loaded machine)");
        CHECK(lastStep >= steps * 8 / 10);
        CHECK(lastLr < 1e-6);
    }
    const Model trained = loadModel(out.string());
    CHECK(trained.metadata.at("train_schedule").find("over " + std::to_string(steps) + " steps") != std::string::npos);
}
