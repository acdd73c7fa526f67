// Checkpoint and run-state files of `mambafx train`: whole or absent on disk, checked when read.
#include "TrainCheckpointFiles.h"

#include <common/Errors.h>
#include <common/PendingOutput.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

namespace mfx::apps::train {

namespace fs = std::filesystem;

namespace {

// Why --resume needs the run state, and what to do without it.
const char* kWithoutState =
    "it holds the validation ESR of the model written so far, without which the resumed run could replace that model "
    "with a worse one. Put the file back, or start again with --overwrite instead of --resume";

bool parseJsonState(const std::string& text, RunState& s) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return false;
    const auto esr = j.find("best_validation_esr"), sec = j.find("train_seconds");
    if (esr == j.end() || sec == j.end() || !esr->is_number() || !sec->is_number()) return false;
    s.bestEsr = esr->get<double>();
    s.seconds = sec->get<double>();
    const auto steps = j.find("schedule_steps"), from = j.find("schedule_from"), history = j.find("schedule_history");
    if (steps != j.end()) {
        if (!steps->is_number_integer()) return false;
        s.scheduleSteps = steps->get<long>();
    }
    if (from != j.end()) {
        if (!from->is_number_integer()) return false;
        s.scheduleFrom = from->get<long>();
    }
    if (history != j.end()) {
        if (!history->is_string()) return false;
        s.scheduleHistory = history->get<std::string>();
    }
    const auto recipe = j.find("recipe");
    if (recipe != j.end()) {
        if (!recipe->is_object()) return false;
        for (const auto& [k, v] : recipe->items()) {
            if (!v.is_string()) return false;
            s.recipe[k] = v.get<std::string>();
        }
    }
    return true;
}

bool parseLegacyState(const std::string& text, RunState& s) {
    std::istringstream in(text);
    std::string rest;
    return static_cast<bool>(in >> s.bestEsr >> s.seconds) && !(in >> rest);
}

} // namespace

void writeFileAtomically(const fs::path& path, const std::string& bytes, const std::string& what) {
    PendingOutput pending(path); // removes the temporary file unless committed
    {
        std::ofstream f(pending.tempPath(), std::ios::binary | std::ios::trunc);
        if (!f)
            throw Failure("cannot write " + what + " " + path.string() + ": cannot create " + pending.tempPath().string() +
                          "; check that the folder exists and is writable");
        f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        f.close();
        if (!f) throw Failure("cannot write " + what + " " + path.string() + ": writing failed (is the disk full?)");
    }
    try {
        pending.commit();
    } catch (const Failure& e) {
        throw Failure("cannot write " + what + " " + path.string() + ": " + e.what());
    }
}

void writeCheckpoint(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
    writeFileAtomically(path, std::string(bytes.begin(), bytes.end()), "the checkpoint");
}

std::vector<std::uint8_t> readCheckpoint(const fs::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Failure("cannot resume: no checkpoint " + path.string() + " (it is written during training; start without --resume)");
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
    if (f.bad()) throw Failure("cannot resume: reading the checkpoint " + path.string() + " failed");
    return bytes;
}

void writeRunState(const fs::path& path, const RunState& state) {
    nlohmann::ordered_json j = {{"best_validation_esr", state.bestEsr}, {"train_seconds", state.seconds}};
    if (state.scheduleSteps > 0) j["schedule_steps"] = state.scheduleSteps;
    if (state.scheduleFrom > 0) j["schedule_from"] = state.scheduleFrom;
    if (!state.scheduleHistory.empty()) j["schedule_history"] = state.scheduleHistory;
    if (!state.recipe.empty()) j["recipe"] = state.recipe;
    writeFileAtomically(path, j.dump(2) + "\n", "the run state");
}

RunState readRunState(const fs::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Failure("cannot resume: the run state " + path.string() + " is missing; " + kWithoutState);
    const std::string text((std::istreambuf_iterator<char>(f)), {});
    if (f.bad()) throw Failure("cannot resume: reading the run state " + path.string() + " failed; " + kWithoutState);
    RunState s;
    if (!parseJsonState(text, s) && !parseLegacyState(text, s))
        throw Failure("cannot resume: the run state " + path.string() +
                      " is damaged (not {\"best_validation_esr\": ..., \"train_seconds\": ...}; a truncated write?); " + kWithoutState);
    if (!std::isfinite(s.bestEsr) || s.bestEsr < 0 || !std::isfinite(s.seconds) || s.seconds < 0)
        throw Failure("cannot resume: the run state " + path.string() + " holds impossible values (best validation ESR " +
                      std::to_string(s.bestEsr) + ", " + std::to_string(s.seconds) + " s); " + kWithoutState);
    return s;
}

} // namespace mfx::apps::train
