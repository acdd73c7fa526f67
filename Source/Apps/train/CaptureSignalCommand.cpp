// mambafx capture-signal -o capture.wav: writes the standard reamp signal (48 kHz mono, 24-bit WAV
// by default) and prints its layout. Play it through the device, record the output, then run
// `mambafx train --input capture.wav --target recorded.wav -o model.safetensors`.
#include "TrainCommands.h"

#include <common/AudioFile.h>
#include <common/Errors.h>
#include <common/Interrupt.h>
#include <common/PendingOutput.h>

#include <Train/CaptureSignal.h>

#include <sndfile.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace mfx::apps {

namespace {

struct CaptureArgs {
    std::string output;
    bool overwrite = false;
    bool quiet = false;
};

// Everything about -o that can be known before writing: the format, the folder it goes into, and
// whether something is in the way. Checked in this order so that a folder named by -o is reported as
// a folder (not as an existing file to --overwrite, nor after writing the whole signal).
void checkCaptureOutput(const std::filesystem::path& out, bool overwrite) {
    namespace fs = std::filesystem;
    const std::string name = out.string();
    std::error_code ec;
    const fs::file_status st = fs::status(out, ec);
    if (fs::is_directory(st))
        throw UsageError("-o " + name + " is a folder; name the file to write in it, e.g. -o " + (out / "capture.wav").string());
    const FormatInfo* fmt = findFormatByExtension(out);
    if (!fmt || fmt->lossy())
        throw UsageError("-o " + name + ": write the capture signal as .wav, .flac or .aiff (lossless), e.g. capture.wav");
    const fs::path folder = out.has_parent_path() ? out.parent_path() : fs::path(".");
    const fs::file_status folderStatus = fs::status(folder, ec);
    if (!fs::exists(folderStatus))
        throw Failure("-o " + name + ": the folder '" + folder.string() + "' does not exist; create it first (mkdir -p " +
                      folder.string() + ") or write the file elsewhere");
    if (!fs::is_directory(folderStatus))
        throw Failure("-o " + name + ": '" + folder.string() + "' is not a folder; write the file into an existing folder");
    if (fs::exists(st) && !overwrite) throw UsageError(name + " exists; pass --overwrite to replace it");
}

void runCaptureSignal(const CaptureArgs& a) {
    namespace fs = std::filesystem;
    const fs::path out(a.output);
    checkCaptureOutput(out, a.overwrite);
    const FormatInfo* fmt = findFormatByExtension(out);
    const int sfFormat = fmt->major | SF_FORMAT_PCM_24;
    // Ctrl-C / SIGTERM only set a flag while writing; the checks below then throw Interrupted, and
    // PendingOutput's destructor removes the half-written temporary file.
    ScopedInterruptHandler interruptHandler;
    clearInterrupt();
    const train::CaptureSignal s = train::makeCaptureSignal();
    throwIfInterrupted();
    {
        PendingOutput pending(out);
        {
            AudioWriter writer(pending.tempPath(), sfFormat, 1, static_cast<int>(s.sampleRate));
            const std::size_t chunk = static_cast<std::size_t>(s.sampleRate); // one second per write
            for (std::size_t begin = 0; begin < s.samples.size(); begin += chunk) {
                throwIfInterrupted();
                writer.write(s.samples.data() + begin, std::min(chunk, s.samples.size() - begin));
            }
            writer.close();
        }
        throwIfInterrupted();
        pending.commit();
    }
    if (a.quiet) return;
    const double rate = s.sampleRate;
    std::printf("wrote %s: %.1f s, 48 kHz mono, 24-bit\n", a.output.c_str(), static_cast<double>(s.samples.size()) / rate);
    std::printf("layout (seconds):\n");
    for (const auto& r : s.regions)
        std::printf("  %7.2f - %7.2f  %-12s %s\n", static_cast<double>(r.begin) / rate, static_cast<double>(r.end) / rate, r.name.c_str(),
                    r.what.c_str());
    std::printf("training part %.2f - %.2f s, validation part %.2f - %.2f s\n", static_cast<double>(s.trainBegin) / rate,
                static_cast<double>(s.trainEnd) / rate, static_cast<double>(s.valBegin) / rate, static_cast<double>(s.valEnd) / rate);
    std::printf("next: play it through your device at the level you play at, record the output from the very start\n"
                "(same interface, same sample rate), then: mambafx train --input %s --target recorded.wav -o my-device.safetensors\n",
                a.output.c_str());
}

} // namespace

void addCaptureSignalCommand(CLI::App& app) {
    auto args = std::make_shared<CaptureArgs>();
    CLI::App* cmd = app.add_subcommand("capture-signal", "Write the standard reamp signal to play through a device for 'mambafx train'");
    cmd->add_option("-o,--output", args->output, "Output audio file (.wav, .flac or .aiff)")->required();
    cmd->add_flag("--overwrite", args->overwrite, "Replace an existing file");
    cmd->add_flag("-q,--quiet", args->quiet, "Do not print the layout");
    cmd->footer("Exit status: 0 written, 1 the file could not be written, 2 a command-line problem.");
    cmd->callback([args]() { runCaptureSignal(*args); });
}

} // namespace mfx::apps
