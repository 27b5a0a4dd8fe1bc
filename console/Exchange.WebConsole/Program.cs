using Exchange.WebConsole;
using Exchange.WebConsole.Services;
using Exchange.WebConsole.Verification;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Components.WebAssembly.Hosting;

var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#app");
builder.RootComponents.Add<HeadOutlet>("head::after");

// How this gateway's console signs in (its settings.json, from the gateway's configuration).
var http = new HttpClient { BaseAddress = new Uri(builder.HostEnvironment.BaseAddress) };
builder.Services.AddSingleton(http);
builder.Services.AddSingleton(await ConsoleSettingsFile.ReadAsync(http));
builder.Services.AddSingleton<OidcSignIn>();

// The signed-in participant (token, roles) and the log key it pinned: this tab only.
builder.Services.AddSingleton<Session>();
// The gateway's own gRPC services over gRPC-Web, on the origin that served the console.
builder.Services.AddSingleton(provider => new Gateway(new Uri(builder.HostEnvironment.BaseAddress), provider.GetRequiredService<Session>()));
builder.Services.AddSingleton<LogTrust>();

await builder.Build().RunAsync();
