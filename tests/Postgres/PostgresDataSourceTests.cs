using Npgsql;
using Praison.Orleans.Grains.Postgres;

namespace Praison.Orleans.Tests.Postgres;

/// <summary>The store's connections: its statements are prepared on the server unless the connection string says not to.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Storage")]
public sealed class PostgresDataSourceTests(PostgresFixture fixture)
{
    [Fact]
    public async Task AStatementRunAgainAndAgain_IsPreparedOnItsConnection()
    {
        await using var data = PostgresDataSource.Create(await fixture.Server.CreateDatabaseAsync());

        Assert.Equal(1, await PreparedAfterRepeatingAsync(data));
    }

    [Theory]
    [InlineData("Max Auto Prepare=0")]
    [InlineData("maxautoprepare=0")]
    public async Task TheConnectionStringsOwnSetting_Wins(string setting)
    {
        await using var data = PostgresDataSource.Create($"{await fixture.Server.CreateDatabaseAsync()};{setting}");

        Assert.Equal(0, await PreparedAfterRepeatingAsync(data));
    }

    /// <summary>One statement run ten times on one connection, then the statements that connection holds prepared on the server.</summary>
    private static async Task<long> PreparedAfterRepeatingAsync(NpgsqlDataSource data)
    {
        await using var connection = await data.OpenConnectionAsync();
        for (var run = 0; run < 10; run++)
        {
            await using var repeated = new NpgsqlCommand("SELECT $1::int + 1", connection);
            repeated.Parameters.Add(new NpgsqlParameter<int> { TypedValue = run });
            await repeated.ExecuteScalarAsync();
        }

        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int + 1%'", connection);
        return (long)(await prepared.ExecuteScalarAsync())!;
    }
}
