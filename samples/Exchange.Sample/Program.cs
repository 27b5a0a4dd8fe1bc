// The Exchange SDK end to end, as a consumer: list the datasets the catalog shows, request access
// to one for a purpose, wait for the provider's decision, download the latest revision (resumable;
// its SHA-256 checked and its transfer receipt verified against the audit log) and say what was verified.
//
//   EXCHANGE_SERVER   the gateway address (default https://127.0.0.1:5001)
//   EXCHANGE_TOKEN    a consumer's bearer token, e.g. from `exchange token initech --role consumer`
//   EXCHANGE_CA       the PEM file of the CA that issued the gateway's certificate (in development certs-dev/ca.crt)
//   EXCHANGE_DATASET  the dataset to request (default: the first one listed)
//   EXCHANGE_PURPOSE  the purpose to state (default: research)
//
//   dotnet run --project samples/Exchange.Sample
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.V1;
using Grpc.Core;

var server = Environment.GetEnvironmentVariable("EXCHANGE_SERVER") ?? "https://127.0.0.1:5001";
var purpose = Environment.GetEnvironmentVariable("EXCHANGE_PURPOSE") ?? "research";
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

using var exchange = new ExchangeClient(new ExchangeClientOptions
{
    Address = new Uri(server),
    CaCertificateFile = Environment.GetEnvironmentVariable("EXCHANGE_CA"),
    Token = Environment.GetEnvironmentVariable("EXCHANGE_TOKEN"),
});

try
{
    // 1. The catalog: every listed dataset, page after page.
    Dataset? chosen = null;
    var wanted = Environment.GetEnvironmentVariable("EXCHANGE_DATASET");
    await foreach (var dataset in exchange.EnumerateDatasetsAsync(cancellationToken: cancel.Token))
    {
        Console.WriteLine($"{dataset.Name}  {dataset.Title}  ({dataset.Provider}, {dataset.Classification})");
        if (chosen is null && (wanted is null || dataset.Name == wanted))
        {
            chosen = dataset;
        }
    }

    if (chosen is null)
    {
        Console.Error.WriteLine(wanted is null ? "The catalog lists no dataset." : $"{wanted} is not listed.");
        return 1;
    }

    // 2. Access: ask for it, then wait for the provider (an automatic approval answers at once).
    var request = await exchange.RequestAccessAsync(chosen.Name, new AccessRequestOptions { Purpose = purpose }, cancel.Token);
    Console.WriteLine($"requested {chosen.Name} for '{purpose}': {request.Name}");
    while (request.State == AccessRequestState.Pending)
    {
        await Task.Delay(TimeSpan.FromSeconds(2), cancel.Token);
        request = (await exchange.Access.GetAccessRequestAsync(new GetAccessRequestRequest { Name = request.Name },
            cancellationToken: cancel.Token)).AccessRequest;
    }

    if (request.State != AccessRequestState.Approved)
    {
        Console.Error.WriteLine($"{request.Name} was {request.State}: {request.DecisionReason}");
        return 1;
    }

    // 3. Download under the grant; the file gets its name only once its bytes and receipt verify.
    var path = Path.GetFullPath(chosen.Name.Replace('/', '-') + ".bin");
    var result = await exchange.DownloadToFileAsync(request.Grant, path, new DownloadOptions
    {
        Purpose = purpose,
        Progress = new Progress<TransferProgress>(p => Console.Write($"\r{p.Bytes} of {p.TotalBytes} bytes")),
    }, cancel.Token);
    Console.WriteLine();
    Console.WriteLine($"{result.Path}: {result.SizeBytes} bytes of {result.Revision}, SHA-256 {Convert.ToHexStringLower(result.Sha256)}");

    // 4. What was verified: the transfer's audit event, in a checkpoint signed by the log's key.
    Console.WriteLine($"receipt: {result.Verification.Message}");
    return 0;
}
catch (VerificationException ex)
{
    Console.Error.WriteLine($"not verified ({ex.FailedCheck}): {ex.Message}");
    return 1;
}
catch (RpcException ex)
{
    Console.Error.WriteLine($"{ex.StatusCode}: {ex.Status.Detail}");
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("interrupted");
    return 130;
}
