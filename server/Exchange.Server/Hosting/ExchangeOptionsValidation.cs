using Microsoft.Extensions.Options;

namespace Exchange.Server.Hosting;

/// <summary>
/// Every check of the Exchange section that needs no more than the settings (and the files they
/// name): run once, as the host starts and before any service is created, so a configuration that
/// cannot work stops the start with every problem named (<see cref="StartupFailure"/>) and nothing
/// is created on disk. Refusing the development keys outside Development comes first.
/// </summary>
internal sealed class ExchangeOptionsValidation(IHostEnvironment environment, IConfiguration configuration) : IValidateOptions<ExchangeOptions>
{
    /// <summary>Binds the Exchange section once, validated on start; every service reads it as <c>IOptions&lt;ExchangeOptions&gt;</c>.</summary>
    public static void Register(IServiceCollection services, IConfigurationSection section)
    {
        services.AddOptions<ExchangeOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExchangeOptions>, ExchangeOptionsValidation>();
    }

    public ValidateOptionsResult Validate(string? name, ExchangeOptions options)
    {
        List<string> problems =
        [
            .. DevKeyGuard.Problem(environment, options) is { } devKeys ? [devKeys] : Array.Empty<string>(),
            .. TlsSetup.Problems(options.Tls, configuration[WebHostDefaults.ServerUrlsKey]),
            .. Security.AuthenticationSetup.Problems(options.Auth, options.Tls),
            .. Storage.StorageSetup.Problems(options),
            .. Audit.AuditSetup.Problems(options),
            .. Transfers.TransferSetup.Problems(options),
            .. GrpcSetup.Problems(options),
            .. Billing.BillingSetup.Problems(options.Billing),
            .. ConsoleSetup.Problems(options),
        ];
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
