using Exchange.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Exchange.Tests.WebConsole;

/// <summary>
/// One browser tab on the console: signs in as a participant the way a person does (a token from
/// <c>exchange token</c> pasted into the sign-in page), and keeps every console error and page
/// error the browser reports, which fail the test.
/// </summary>
internal sealed class ConsolePage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    private ConsolePage(IBrowserContext context, IPage page, Uri gateway)
    {
        _context = context;
        Page = page;
        Base = new Uri(gateway, "/console/");
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add($"console: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add($"page: {error}");
            }
        };
    }

    public IPage Page { get; }

    public Uri Base { get; }

    public static async Task<ConsolePage> OpenAsync(IBrowser browser, Uri gateway, int width = 1280, int height = 900)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            // The gateway's certificate is the dev CA's, which this browser does not know.
            IgnoreHTTPSErrors = true,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        return new ConsolePage(context, page, gateway);
    }

    /// <summary>Signs in with a dev token by keyboard: the token, Tab to the button, Enter.</summary>
    public async Task SignInAsync(Participant who)
    {
        await Page.GotoAsync(Base.ToString());
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Level = 1 })).ToBeVisibleAsync();
        await Page.GetByLabel("Token", new() { Exact = true }).FillAsync(ExchangeFactory.Token(who.Id, who.Roles));
        await Page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeFocusedAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(Page.Locator("header .who")).ToContainTextAsync(who.Id);
    }

    public async Task GoAsync(string path, string heading)
    {
        await Page.GotoAsync(new Uri(Base, path).ToString());
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 })).ToBeVisibleAsync();
    }

    public async Task PinKeyAsync(string key)
    {
        await Page.GetByLabel("Verifier key", new() { Exact = true }).FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Pin key" }).ClickAsync();
        await Assertions.Expect(Page.Locator(".pin code.key")).ToHaveTextAsync(key);
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotDirectory(), name + ".png"), FullPage = true });

    /// <summary>Fails on any error the browser reported.</summary>
    public void AssertNoErrors()
    {
        lock (_errors)
        {
            Assert.True(_errors.Count == 0, "the browser reported errors:\n" + string.Join("\n", _errors));
        }
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
