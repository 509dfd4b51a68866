#include "oauth2/service_account.hpp"

#include "core/error.hpp"
#include "state/secret_file.hpp"

namespace mailprobe::oauth2 {

namespace {

std::string string_member(const nlohmann::json& doc, const char* name, const std::string& path) {
    auto it = doc.find(name);
    if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
        throw UsageError(std::string("service account key file ") + path + " has no \"" + name +
                         "\" (download a new JSON key for the service account)");
    }
    return it->get<std::string>();
}

}  // namespace

ServiceAccount parse_service_account(const std::string& json_text, const std::string& path) {
    auto doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        throw UsageError("service account key file " + path + " is not a JSON object");
    }
    auto type = doc.find("type");
    if (type == doc.end() || !type->is_string() || *type != "service_account") {
        throw UsageError("service account key file " + path +
                         " is not a service account key (\"type\" is not \"service_account\")");
    }
    std::string pem = string_member(doc, "private_key", path);
    return ServiceAccount{
        string_member(doc, "client_email", path), string_member(doc, "private_key_id", path),
        string_member(doc, "token_uri", path),
        PrivateKey::from_pem(pem, "private_key of service account key file " + path)};
}

ServiceAccount load_service_account(const std::string& path, std::vector<std::string>& warnings) {
    const std::string what = "service account key file";
    return parse_service_account(state::read_named_secret(path, what, state::Ownership::any,
                                                          state::Layout::document, warnings),
                                 path);
}

FormFields service_account_grant_fields(const ServiceAccount& account, const std::string& scope,
                                        const std::string& subject, std::int64_t now) {
    nlohmann::json header = {{"typ", "JWT"}, {"kid", account.private_key_id}};
    nlohmann::json claims = {{"iss", account.client_email},
                             {"scope", scope},
                             {"aud", account.token_uri},
                             {"sub", subject},
                             {"iat", now},
                             {"exp", now + k_service_account_assertion_lifetime}};
    return {{"grant_type", k_jwt_bearer_grant},
            {"assertion", sign_rs256_jwt(std::move(header), claims, account.key)}};
}

}  // namespace mailprobe::oauth2
