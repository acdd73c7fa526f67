// mambafx info MODEL: what a model file is (config, size, parameter count, every metadata entry).
// Exit 0 only for a model the loader accepts; otherwise the loader's message and exit 1.
#include "Commands.h"

#include <common/Errors.h>

#include <Model/ModelError.h>
#include <Model/ModelFile.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

namespace mfx::apps {

namespace {

namespace fs = std::filesystem;

struct InfoOptions {
    std::string model;
    bool json = false;
};

std::string humanBytes(std::uintmax_t bytes) {
    char buf[64];
    if (bytes >= (1u << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB (%ju bytes)", static_cast<double>(bytes) / (1 << 20), bytes);
    else if (bytes >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB (%ju bytes)", static_cast<double>(bytes) / 1024, bytes);
    else
        std::snprintf(buf, sizeof buf, "%ju bytes", bytes);
    return buf;
}

// Multi-line metadata values are indented under their key.
void printValue(std::ostream& out, const std::string& value, std::size_t indent) {
    std::istringstream lines(value);
    std::string line;
    bool first = true;
    while (std::getline(lines, line)) {
        if (!first) out << std::string(indent, ' ');
        out << line << "\n";
        first = false;
    }
    if (first) out << "\n";
}

void runInfo(const InfoOptions& options) {
    Model model;
    try {
        model = loadModel(options.model);
    } catch (const ModelError& e) {
        throw Failure(e.what());
    }
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(options.model, ec);
    const Config& c = model.config;

    if (options.json) {
        nlohmann::ordered_json j;
        j["file"] = options.model;
        j["size_bytes"] = ec ? 0 : size;
        j["name"] = model.name();
        j["parameters"] = c.parameterCount();
        j["config"] = nlohmann::ordered_json::parse(c.toJson());
        j["metadata"] = model.metadata;
        std::cout << j.dump(2) << std::endl;
        return;
    }

    std::cout << "file        " << options.model << "\n"
              << "size        " << (ec ? std::string("unknown") : humanBytes(size)) << "\n"
              << "name        " << model.name() << "\n"
              << "parameters  " << c.parameterCount() << "\n"
              << "config      " << c.summary() << "\n"
              << "  d_model      " << c.dModel << "\n"
              << "  n_layers     " << c.nLayers << "\n"
              << "  d_state      " << c.dState << "\n"
              << "  d_conv       " << c.dConv << "\n"
              << "  expand       " << c.expand << "  (d_inner " << c.dInner() << ")\n"
              << "  dt_rank      " << c.dtRank << "\n"
              << "  n_cond       " << c.nCond << "\n"
              << "  sample_rate  " << c.sampleRate << " Hz\n"
              << "metadata    " << model.metadata.size() << (model.metadata.size() == 1 ? " entry" : " entries") << "\n";
    std::size_t width = 0;
    for (const auto& [key, value] : model.metadata) width = std::max(width, key.size());
    for (const auto& [key, value] : model.metadata) {
        std::cout << "  " << key << std::string(width - key.size() + 2, ' ');
        printValue(std::cout, value, width + 4);
    }
    std::cout << std::flush;
}

} // namespace

void addInfoCommand(CLI::App& app) {
    auto options = std::make_shared<InfoOptions>();
    CLI::App* cmd = app.add_subcommand("info", "Show a model's configuration, size, parameter count and metadata");
    cmd->add_option("MODEL", options->model, "Model file (.safetensors)")->required()->type_name("MODEL");
    cmd->add_flag("--json", options->json, "Print the information as JSON");
    cmd->footer("Exit status: 0 for a valid model, 1 (with the loader's message) otherwise.");
    cmd->callback([options] { runInfo(*options); });
}

} // namespace mfx::apps
