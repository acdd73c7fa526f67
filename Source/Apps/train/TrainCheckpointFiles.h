#pragma once
// The files a training run keeps next to its model (-o MODEL): the trainer's checkpoint MODEL.ckpt and
// the run state MODEL.ckpt.json (the validation ESR of the model in MODEL, and the training time so
// far). Each is written under a temporary name and renamed over the old one, so what is on disk is
// always whole, and a temporary file never stays behind when writing fails. Reading them for --resume
// fails with a message naming the file.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mfx::apps::train {

struct RunState {
    double bestEsr = 1e300; // validation ESR of the model in MODEL; 1e300 while none has been written
    double seconds = 0;     // training time so far
    std::map<std::string, std::string> recipe; // what the run was started with (TrainRecipe.h); empty in older files
    long scheduleSteps = 0;       // the learning-rate schedule's length (--epochs x steps per epoch); 0 in older files
    long scheduleFrom = 0;        // the step the current schedule took over at (0: the run's first)
    std::string scheduleHistory;  // earlier schedules of a run resumed with another --epochs ("steps 1-1200 of a
                                  // 2400-step schedule; "), empty if none
};

// Writes `bytes` to "<path>.tmp-<pid>" and renames it to `path`. `what` names the file in messages
// ("the checkpoint"). Throws Failure; the temporary file is removed on every failure.
void writeFileAtomically(const std::filesystem::path& path, const std::string& bytes, const std::string& what);

void writeCheckpoint(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);
// Throws Failure when the checkpoint is missing or cannot be read.
std::vector<std::uint8_t> readCheckpoint(const std::filesystem::path& path);

// As JSON: {"best_validation_esr": 0.0123, "train_seconds": 456.7, "recipe": {"lr": "0.005", ...}}.
void writeRunState(const std::filesystem::path& path, const RunState& state);
// Throws Failure when the file is missing, unreadable, truncated or holds impossible values. Also
// reads the two-number text ("0.0123 456.7") that versions before the JSON wrote.
RunState readRunState(const std::filesystem::path& path);

} // namespace mfx::apps::train
