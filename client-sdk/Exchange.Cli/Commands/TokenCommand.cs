using System.CommandLine;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange token</c>: mints a development bearer token.</summary>
internal static class TokenCommand
{
    public static Command Create(CliApp app)
    {
        var participant = new Option<string>("--participant", "-p")
        {
            Description = "The participant id (the token's sub), e.g. acme.",
            Required = true,
        };
        var roles = new Option<string[]>("--role", "-r")
        {
            Description = "A role: provider, consumer, auditor, operator, or metrics (scrapes /metrics and nothing else). Repeat for several.",
            AllowMultipleArgumentsPerToken = false,
            Required = true,
        };
        roles.AcceptOnlyFromAmong("provider", "consumer", "auditor", "operator", "metrics");
        var lifetime = new Option<string>("--lifetime")
        {
            Description = "How long the token is valid: 90s, 15m, 8h, 7d.",
            DefaultValueFactory = _ => "8h",
        };
        var key = new Option<string?>("--key")
        {
            Description = "PEM EC P-256 private key to sign with (env EXCHANGE_DEV_KEY; default: ./certs-dev/jwt-signing.key, from the repository root).",
        };
        var issuer = new Option<string>("--issuer") { DefaultValueFactory = _ => DevTokens.DefaultIssuer, Description = "The iss claim." };
        var audience = new Option<string>("--audience") { DefaultValueFactory = _ => DevTokens.DefaultAudience, Description = "The aud claim." };

        var bindCert = new Option<string?>("--bind-cert")
        {
            Description = "PEM client certificate to bind the token to (RFC 8705 cnf x5t#S256): it then works only over mutual TLS with that certificate.",
        };

        var command = new Command("token", "Mint a development bearer token signed with the certs-dev key (never for production).")
        {
            participant, roles, lifetime, key, issuer, audience, bindCert,
        };
        command.SetAction(app.Guard(async (parse, _) =>
        {
            if (!Durations.TryParse(parse.GetValue(lifetime)!, out var duration))
            {
                await app.Error.WriteLineAsync($"error: --lifetime '{parse.GetValue(lifetime)}' is not a duration such as 90s, 15m, 8h or 7d.");
                return 2;
            }

            string? bound = null;
            if (parse.GetValue(bindCert) is { } certificateFile)
            {
                using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certificateFile));
                bound = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.SHA256.HashData(certificate.RawData));
            }

            if (DevTokens.FindKeyFile(parse.GetValue(key), out var problem) is not { } keyFile)
            {
                await app.Error.WriteLineAsync($"error: {problem}");
                return 1;
            }

            var token = DevTokens.Mint(keyFile, parse.GetValue(participant)!,
                parse.GetValue(roles)!.Distinct(), duration, parse.GetValue(issuer)!, parse.GetValue(audience)!, boundCertificate: bound);
            await app.Output.WriteLineAsync(token);
            return 0;
        }));
        return command;
    }
}
