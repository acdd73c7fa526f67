#pragma once
// An output file that appears only when complete: everything is written to "<output>.tmp-<pid>" in
// the same folder, and commit() renames it over the final name (atomic on one file system). If the
// object dies uncommitted (error, exception, Ctrl-C), the temporary file is deleted.
#include <filesystem>

namespace mfx::apps {

class PendingOutput {
public:
    explicit PendingOutput(std::filesystem::path finalPath);
    ~PendingOutput();
    PendingOutput(const PendingOutput&) = delete;
    PendingOutput& operator=(const PendingOutput&) = delete;

    const std::filesystem::path& tempPath() const { return temp_; }
    const std::filesystem::path& finalPath() const { return final_; }

    // Renames the temporary file to the final name; throws Failure if that fails.
    void commit();
    // Deletes the temporary file now (also done by the destructor).
    void discard() noexcept;

    static std::filesystem::path tempPathFor(const std::filesystem::path& finalPath);

private:
    std::filesystem::path final_;
    std::filesystem::path temp_;
    bool done_ = false;
};

} // namespace mfx::apps
