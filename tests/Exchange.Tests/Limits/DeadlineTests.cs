using Exchange.Server.Storage;
using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Limits;

/// <summary>A call whose deadline passes, or that its caller cancels, stops its database work: a write still waiting for its turn never runs.</summary>
public sealed class DeadlineTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    [Fact]
    public async Task A_write_cancelled_while_it_waits_for_the_writer_never_takes_effect()
    {
        _ = Gateway.Server;
        var database = Gateway.Services.GetRequiredService<Database>();
        using var running = new ManualResetEventSlim();
        var busy = database.WriteAsync(_ =>
        {
            running.Set();
            Thread.Sleep(600);
            return 0;
        }, CancellationToken.None);

        // The writer is inside the busy unit, so the next write waits for a later group.
        Assert.True(running.Wait(TimeSpan.FromSeconds(10)));

        // Cancelled by hand while the writer is still busy: a timer could fire late on a loaded machine.
        using var caller = new CancellationTokenSource();
        var waiting = database.WriteAsync(unit => unit.Command("INSERT INTO server_secrets (name, value) VALUES ('too-late', @v)")
            .With("@v", new byte[1]).ExecuteNonQuery(), caller.Token);
        await caller.CancelAsync();
        Assert.False(busy.IsCompleted);

        await busy;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0L, await database.ReadAsync(c => Convert.ToInt64(c.Command("SELECT COUNT(*) FROM server_secrets WHERE name = 'too-late'").ExecuteScalar()),
            CancellationToken.None));
    }

    [Fact]
    public async Task A_read_whose_caller_has_given_up_does_not_start()
    {
        _ = Gateway.Server;
        var database = Gateway.Services.GetRequiredService<Database>();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var ran = false;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => database.ReadAsync(_ => ran = true, cancelled.Token));
        Assert.False(ran);
    }
}
