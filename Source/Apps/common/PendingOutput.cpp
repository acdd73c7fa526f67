// Temp-file-then-rename output.
#include "PendingOutput.h"

#include "Errors.h"

#include <unistd.h>

namespace mfx::apps {

namespace fs = std::filesystem;

fs::path PendingOutput::tempPathFor(const fs::path& finalPath) {
    fs::path temp = finalPath;
    temp += ".tmp-" + std::to_string(static_cast<long>(getpid()));
    return temp;
}

PendingOutput::PendingOutput(fs::path finalPath) : final_(std::move(finalPath)), temp_(tempPathFor(final_)) {}

PendingOutput::~PendingOutput() { discard(); }

void PendingOutput::commit() {
    if (done_) return;
    std::error_code ec;
    fs::rename(temp_, final_, ec);
    if (ec) {
        discard();
        throw Failure("cannot move the finished output into place as '" + final_.string() + "': " + ec.message());
    }
    done_ = true;
}

void PendingOutput::discard() noexcept {
    if (done_) return;
    std::error_code ec;
    fs::remove(temp_, ec);
    done_ = true;
}

} // namespace mfx::apps
