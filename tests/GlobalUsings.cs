global using Orleans;
global using Orleans.Runtime;
global using Praison.Orleans.GrainInterfaces;
global using Praison.Orleans.Testing;
global using Praison.Orleans.Tests.Infrastructure;
